"""Allow `python -m edge_agent` where the console script is not on PATH."""

from edge_agent.cli.main import main

raise SystemExit(main())
