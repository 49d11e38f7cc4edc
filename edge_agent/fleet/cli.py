"""`edge-fleet`: discover, inspect, command and roll out to a fleet of edge-agent devices.

Same conventions as `edge-agent`: a user error is one message with the fix and an exit code
from errors.ExitCode, never a traceback (unless --debug).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional, TextIO

from edge_agent import __version__

logger = logging.getLogger(__name__)


def emit(text: str = "", file: Optional[TextIO] = None, flush: bool = False) -> None:
    """One line of output (the tool's user interface, not logging)."""
    stream = file if file is not None else sys.stdout
    stream.write(text + "\n")
    if flush:
        stream.flush()


def _targets(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--device", action="append", default=[], help="a device id (repeatable)")
    group.add_argument("--site", default="", help="every device of this site")
    group.add_argument("--all", action="store_true", help="every device")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public for the docs test)."""
    parser = argparse.ArgumentParser(prog="edge-fleet",
                                     description="Manage edge-agent devices over MQTT.")
    parser.add_argument("--version", action="version", version=f"edge-fleet {__version__}")
    parser.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT")
    parser.add_argument("--mqtt", choices=("5", "3.1.1"), default="5", help="protocol version")
    parser.add_argument("--prefix", default="edge-agent", help="topic prefix of the devices")
    parser.add_argument("--username", default="", help="broker user (e.g. operator)")
    parser.add_argument("--password-file", type=Path, default=None)
    parser.add_argument("--key-file", type=Path, default=None,
                        help="sign commands with this fleet key (a file: KEY_ID:HEX_SECRET)")
    parser.add_argument("--discover-s", type=float, default=2.0,
                        help="stop discovery after this long without a new device")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ls = commands.add_parser("inventory", aliases=["ls"], help="table of discovered devices")
    ls.add_argument("--sort", default="device", help="column to sort by")
    ls.add_argument("--desc", action="store_true", help="sort descending")
    ls.add_argument("--page", type=int, default=1)
    ls.add_argument("--page-size", type=int, default=0, help="rows per page (0: fit terminal)")
    ls.add_argument("--site", default="", help="only this site")

    export = commands.add_parser("export", help="write the inventory as JSON")
    export.add_argument("file", help="output file, '-' for stdout")

    send = commands.add_parser("send", help="send a command and show its progress")
    send.add_argument("name", help="command name (ping, set_config, ...)")
    send.add_argument("--args", default="{}", help="arguments as a JSON object")
    send.add_argument("--timeout-s", type=float, default=60.0)
    send.add_argument("--expires-in-s", type=float, default=300.0)
    _targets(send)

    rollout = commands.add_parser("rollout", help="config or model to a group, in waves")
    what = rollout.add_mutually_exclusive_group(required=True)
    what.add_argument("--config", type=Path, help="JSON/TOML sections to merge (patch_config)")
    what.add_argument("--model", help="model name to fetch (needs --url and --sha256)")
    rollout.add_argument("--url", default="")
    rollout.add_argument("--sha256", default="")
    rollout.add_argument("--canary-pct", type=float, default=1.0)
    rollout.add_argument("--wave-pct", type=float, default=20.0)
    rollout.add_argument("--rate-per-min", type=float, default=0.0)
    rollout.add_argument("--max-failure-ratio", type=float, default=0.0)
    rollout.add_argument("--device-timeout-s", type=float, default=120.0)
    rollout.add_argument("--health-timeout-s", type=float, default=30.0)
    _targets(rollout)

    follow = commands.add_parser("follow", help="print telemetry as it arrives")
    follow.add_argument("--device", action="append", default=[])
    follow.add_argument("--duration-s", type=float, default=0.0, help="0 = until Ctrl-C")

    simulate = commands.add_parser("simulate", help="run N simulated devices")
    simulate.add_argument("--devices", type=int, default=10)
    simulate.add_argument("--per-connection", type=int, default=50)
    simulate.add_argument("--sites", type=int, default=1)
    simulate.add_argument("--telemetry-interval-s", type=float, default=30.0)
    simulate.add_argument("--duration-s", type=float, default=0.0, help="0 = until Ctrl-C")
    simulate.add_argument("--workdir", type=Path, default=Path("var/fleet-sim"))
    # The site view and the Prometheus exporter read the same topics as `ls`/`follow`.
    from edge_agent.dashboard.cli import register as register_dashboard

    register_dashboard(commands)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Console-script entry point."""
    from edge_agent.fleet import cli_commands
    from edge_agent.service.console import run_command_line

    def configure(args: argparse.Namespace) -> None:
        logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")

    def dispatch(args: argparse.Namespace) -> int:
        handler = getattr(args, "handler", None)  # dashboard, exporter
        return int(handler(args) if handler is not None else cli_commands.run(args))

    return run_command_line(build_parser(), argv, "edge-fleet", dispatch, configure)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
