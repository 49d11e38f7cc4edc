"""`edge-agent power-mode list|request|result`: ask for a power mode without being root."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from edge_agent.errors import ExitCode
from edge_agent.powermode import CONF_PATH, REQUEST_DIR, RESULT_DIR


def register(subparsers: Any) -> None:
    """Add the `power-mode` sub-command."""
    parser = subparsers.add_parser(
        "power-mode", help="list nvpmodel power modes or request one (applied by a root helper)"
    )
    parser.add_argument("--conf", type=Path, default=Path(CONF_PATH), help="nvpmodel.conf")
    parser.add_argument("--request-dir", type=Path, default=Path(REQUEST_DIR),
                        help="where the request for the privileged helper is written")
    parser.add_argument("--result-dir", type=Path, default=Path(RESULT_DIR),
                        help="where the helper writes its result")
    actions = parser.add_subparsers(dest="power_action", metavar="ACTION")
    actions.add_parser("list", help="modes of this device (ID, name, default)")
    request = actions.add_parser("request", help="ask the privileged helper to switch mode")
    request.add_argument("mode", help="mode ID or name, e.g. 2 or MODE_15W")
    request.add_argument(
        "--wait-s", type=float, default=0.0, help="wait this long for the helper's result"
    )
    actions.add_parser("result", help="what the helper did last")
    parser.set_defaults(handler=_handle)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _handle(args: argparse.Namespace) -> int:
    from edge_agent.errors import EdgeAgentError
    from edge_agent.powermode.request import read_result, read_table, write_request
    from edge_agent.powermode.validate import sorted_modes

    if args.power_action == "list":
        table = read_table(args.conf)
        for mode in sorted_modes(table):
            default = "  (default)" if mode.id == table.default_id else ""
            _say(f"{mode.id:>3}  {mode.name}{default}")
        return ExitCode.OK
    if args.power_action == "request":
        started = time.time()
        mode = write_request(args.request_dir, args.mode, read_table(args.conf))
        _say(f"requested power mode {mode.id} ({mode.name})")
        deadline = time.monotonic() + args.wait_s
        while time.monotonic() < deadline:
            result = read_result(args.result_dir)
            if result is not None and result.at_s >= started:
                _say("applied" if result.applied else f"refused: {result.error}")
                return ExitCode.OK if result.applied else ExitCode.FAILURE
            time.sleep(0.2)
        return ExitCode.OK
    if args.power_action == "result":
        result = read_result(args.result_dir)
        if result is None:
            _say("no result yet (the helper has not run)")
            return ExitCode.OK
        state = "applied" if result.applied else f"refused: {result.error}"
        _say(f"mode {result.mode_id} ({result.mode_name}): {state}")
        return ExitCode.OK
    raise EdgeAgentError("power-mode needs an action", "use `list`, `request MODE` or `result`")
