"""`edge-agent selftest` command line (registered through cli.COMMAND_MODULES).

Prints the report on stdout (and saves it), progress on stderr; exit 0 on PASS, 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the `selftest` sub-command."""
    parser = subparsers.add_parser(
        "selftest", help="build the engines, run the agent ~1 min, print a pass/fail report")
    parser.add_argument("--config", type=Path, default=None,
                        help="run with this config (its cameras, models and broker) instead "
                        "of the sample clip with a private broker")
    parser.add_argument("--workdir", type=Path, default=Path("edge-agent-selftest"),
                        help="folder for the sample, stand-ins, engines and the report")
    parser.add_argument("--duration-s", type=float, default=60.0,
                        help="how long the agent runs (memory growth needs >= 50 s)")
    parser.add_argument("--notify-s", type=float, default=15.0,
                        help="how long `edge-agent run` runs under the notify socket")
    parser.add_argument("--clip", type=Path, default=None, help="video file instead of the sample")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="use the models here (e.g. fetched from NGC); stand-ins fill gaps")
    parser.add_argument("--fetch-models", action="store_true",
                        help="download the real NGC models first (stand-ins where NGC is "
                        "unreachable)")
    parser.add_argument("--change-power-mode", action="store_true",
                        help="switch the power mode for a moment to check the re-plan")
    parser.add_argument("--profile", default="", help="device profile instead of auto")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument("--root", type=Path, default=Path("/"), help=argparse.SUPPRESS)
    parser.set_defaults(handler=_run)


def _say(text: str) -> None:
    print(f"[selftest] {text}", file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    from edge_agent.selftest.run import SelftestOptions, run_selftest

    options = SelftestOptions(
        workdir=args.workdir.resolve(), config=args.config, duration_s=args.duration_s,
        notify_s=args.notify_s, clip=args.clip, models_dir=args.models_dir,
        change_power_mode=args.change_power_mode, fetch_models=args.fetch_models,
        root=args.root, profile=args.profile)
    report = run_selftest(options, _say)
    print(report)
    target = args.out or options.workdir / "selftest-report.md"
    target.write_text(report, encoding="utf-8")
    _say(f"report saved to {target}; paste it into an issue as it is")
    return 0 if "selftest: PASS" in report.splitlines()[0] else 1
