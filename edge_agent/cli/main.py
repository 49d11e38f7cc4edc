"""The `edge-agent` command.

Every user-caused failure ends here as one message naming the problem and the fix, and an
exit code from errors.ExitCode (documented in the README); a traceback is shown only with
--debug, because users of an unattended appliance read journals, not stack frames.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
from pathlib import Path
from typing import List, Optional

from edge_agent import __version__
from edge_agent.errors import ConfigError, ExitCode, UsageError

logger = logging.getLogger(__name__)


def non_negative_seconds(text: str) -> float:
    """argparse type: seconds >= 0 (a usage error, exit 64, otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds must be 0 or more")
    return value


def download_url(text: str) -> str:
    """argparse type: an http(s) URL (a usage error, exit 64, before any download)."""
    if text and not re.match(r"^https?://[^/\s]+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text


def sha256_hex(text: str) -> str:
    """argparse type: 64 hexadecimal digits."""
    if text and not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a sha256 (64 hexadecimal digits)")
    return text.lower()


def broker_address(text: str) -> str:
    """argparse type: HOST:PORT, checked before any work starts ('' = start a private one)."""
    if text == "":
        return text
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not HOST:PORT (for example 127.0.0.1:1883)")
    return text


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edge-agent",
        description="People analytics on NVIDIA Jetson, published over MQTT.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"edge-agent {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND",
        parser_class=_DefaultsParser)

    run = commands.add_parser("run", help="run the agent (capture, inference, MQTT)")
    run.add_argument(
        "--config", type=Path, default=None,
        help="TOML config (default: /etc/edge-agent/agent.toml)",
    )
    run.add_argument(
        "--duration-s", type=non_negative_seconds, default=0.0,
        help="stop after this many seconds (0 = never)",
    )

    config = commands.add_parser("config", help="validate or describe the configuration")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION")
    check = config_commands.add_parser(
        "check", help="validate a config file as `run` would, listing every problem")
    check.add_argument("file", type=Path, help="the TOML config file to check")
    check.add_argument(
        "--online", action="store_true",
        help="also decode each video file's first frame (as `run` does at start)")
    config_commands.add_parser("schema", help="print the JSON schema of the configuration")

    models = commands.add_parser("models", help="model files: stand-ins, listing")
    model_commands = models.add_subparsers(dest="models_command", metavar="ACTION")
    standin = model_commands.add_parser(
        "standin", help="write a stand-in ONNX model with the exact NGC tensor contract"
    )
    standin.add_argument("name", help="model name, or 'all'")
    standin.add_argument("--out", type=Path, required=True, help="output folder")
    model_commands.add_parser("list", help="list the known model manifests")
    fetch = model_commands.add_parser(
        "fetch", help="download an NGC model, verify its sha256 and install it (resumable)"
    )
    fetch.add_argument("name", help="model name (see `models list`), or 'all'")
    fetch.add_argument("--models-dir", type=Path, default=Path("/var/lib/edge-agent/models"),
                       help="where the model is installed (models.dir)")
    fetch.add_argument("--url", type=download_url, default="",
                       help="download from here (http:// or https://) instead of the manifest")
    fetch.add_argument("--sha256", type=sha256_hex, default="",
                       help="expected ONNX sha256, 64 hex digits (overrides the manifest)")
    fetch.add_argument("--repin", action="store_true", help="accept a new file: replace the pin")
    fetch.add_argument("--calibration-dir", type=Path,
                       default=Path("/var/lib/edge-agent/calibration"),
                       help="where the INT8 calibration cache NVIDIA ships with a model goes "
                            "(models.calibration_dir)")

    demo = commands.add_parser(
        "demo", help="run on the sample clip with stand-in models and a local broker"
    )
    demo.add_argument("--workdir", type=Path, default=Path("var/demo"),
                      help="where the config, models, outbox and picture are written")
    demo.add_argument("--duration-s", type=non_negative_seconds, default=15.0,
                      help="how long the agent runs")
    demo.add_argument("--broker", type=broker_address, default="",
                      help="HOST:PORT of a broker to use instead of a private mosquitto")
    demo.add_argument("--clip", type=Path, default=None, help="a video file instead of the sample")
    demo.add_argument("--dashboard", type=broker_address, default="", metavar="HOST:PORT",
                      help="also serve the site dashboard there while the agent runs (prints "
                           "its URL), e.g. 127.0.0.1:8088")
    demo.add_argument("--models", choices=("standin", "ngc"), default="standin",
                      help="'ngc': download NVIDIA's models where NGC is reachable (pinned "
                           "sha256), stand-ins otherwise; 'standin': generated stand-ins only")
    run.set_defaults(handler=_cmd_run)
    config.set_defaults(handler=_cmd_config)
    models.set_defaults(handler=_cmd_models)
    demo.set_defaults(handler=_cmd_demo)
    for module_name in COMMAND_MODULES:
        # Each module adds its sub-command(s) with set_defaults(handler=...); heavy imports
        # stay inside the handlers so `edge-agent --help` starts fast.
        importlib.import_module(module_name).register(commands)
    return parser


class _DefaultsParser(argparse.ArgumentParser):
    """Sub-command parsers that show each option's default in --help."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


def _cmd_run(args: argparse.Namespace) -> int:
    from edge_agent.agent.runner import run_agent
    from edge_agent.service.console import configure_logging
    from edge_agent.service.journal import use_journal_if_attached
    from edge_agent.settings import DEFAULT_CONFIG_PATH
    from edge_agent.settings.config_file import load_settings

    config_path = args.config or DEFAULT_CONFIG_PATH
    settings = load_settings(config_path)
    status = configure_logging(settings.logging.level)
    use_journal_if_attached()
    agent = run_agent(settings, status, duration_s=args.duration_s, config_path=config_path)
    return ExitCode.RESTART if agent.restart_requested.is_set() else ExitCode.OK


def _cmd_config(args: argparse.Namespace) -> int:
    from edge_agent.service.startup_checks import check_file
    from edge_agent.settings import AgentSettings
    from edge_agent.settings.config_file import read_toml

    if args.config_command == "schema":
        print(json.dumps(AgentSettings.model_json_schema(), indent=2))
        return ExitCode.OK
    if args.config_command == "check":
        read_toml(args.file)  # syntax errors surface as ConfigError with the position
        problems = check_file(args.file, online=args.online)
        if problems:
            print(f"{args.file}: {len(problems)} problem(s)")
            for problem in problems:
                print("  " + problem.render())
            return ExitCode.CONFIG
        print(f"{args.file}: OK")
        return ExitCode.OK
    raise UsageError("config needs an action", "use `edge-agent config check FILE` or `schema`")


def _cmd_models(args: argparse.Namespace) -> int:
    from edge_agent.models.manifest import known_model_names, load_manifest

    if args.models_command == "standin":
        require_onnx("models standin")
        from edge_agent.models.standin import STANDIN_NAMES, write_standin

        names = list(STANDIN_NAMES) if args.name == "all" else [args.name]
        for name in names:
            path = write_standin(name, args.out)
            print(f"wrote stand-in {name}: {path}")
        return ExitCode.OK
    if args.models_command == "list":
        for name in known_model_names():
            manifest = load_manifest(name)
            ngc = (f"{manifest.ngc_model}:{manifest.ngc_version}" if manifest.ngc_model
                   else "(not on NGC)")
            print(f"{name:32s} {ngc}")
        return ExitCode.OK
    if args.models_command == "fetch":
        from edge_agent.models.fetch import run_fetch
        from edge_agent.pipeline.calibration_choice import shipped_cache_installer

        return run_fetch(args.name, args.models_dir, args.url, args.sha256, args.repin,
                         after_install=shipped_cache_installer(args.calibration_dir))
    raise UsageError(
        "models needs an action", "use `edge-agent models standin`, `list` or `fetch`"
    )


def require_onnx(command: str) -> None:
    """The onnx package (extra 'standin') is needed to write models; say so, not a traceback."""
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"`edge-agent {command}` writes ONNX models and needs the onnx package ({exc})",
            "install it with `pip install 'edge-agent[standin]'` (the demo and test scripts "
            "do); a fleet device that only runs models does not need it",
        ) from None


def _cmd_demo(args: argparse.Namespace) -> int:
    require_onnx("demo")
    from edge_agent.demo.command import run_demo

    return run_demo(args.workdir, args.duration_s, args.broker, args.clip, args.models,
                    args.dashboard)


# Modules that contribute sub-commands through `register(subparsers)`.
COMMAND_MODULES: List[str] = [
    "edge_agent.cli.doctor",
    "edge_agent.calibration.cli",
    "edge_agent.cli.engines",
    "edge_agent.eval.cli",
    "edge_agent.pose.eval_cli",
    "edge_agent.powermode.cli",
    "edge_agent.scheduler.cli",
    "edge_agent.cli.selftest",
    "edge_agent.cli.snapshot",
    "edge_agent.dashboard.cli",
]


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    from edge_agent.service.console import run_command_line

    return run_command_line(_build_parser(), argv, "edge-agent", lambda args: args.handler(args))
