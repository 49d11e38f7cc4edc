"""`dashboard` and `exporter` sub-commands (registered through cli.COMMAND_MODULES; the fleet
tool can call register() on its own sub-parsers the same way)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Tuple

from edge_agent.errors import ConfigError, ExitCode, UsageError

PASSWORD_ENV = "EDGE_DASHBOARD_PASSWORD"


def _host_port(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (for example "
                                         "127.0.0.1:1883)")
    return text


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds must be more than 0")
    return value


def _broker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", type=_host_port, default="127.0.0.1:1883",
                        help="MQTT broker HOST:PORT the devices publish to")
    parser.add_argument("--username", default="", help="MQTT user name (read-only account)")
    parser.add_argument("--tls-ca-file", default="", help="CA bundle: connect with TLS")
    parser.add_argument("--tls-cert-file", default="",
                        help="client certificate (deploy/mosquitto grants CN 'dashboard' read)")
    parser.add_argument("--tls-key-file", default="", help="key of --tls-cert-file")
    parser.add_argument("--prefix", default="edge-agent", help="mqtt.topic_prefix of the devices")
    parser.add_argument("--site", action="append", default=[], metavar="SITE=DEVICE_GLOB",
                        help="site/area label for devices matching the glob (repeatable, first "
                        "match wins; others are 'unassigned')")
    parser.add_argument("--stale-after-s", type=_positive_seconds, default=90.0,
                        help="mark a device's values stale after this long without a message")


def register(subparsers: Any) -> None:
    """Add `dashboard` and `exporter`."""
    dashboard = subparsers.add_parser(
        "dashboard", help="live web dashboard of every device under the prefix")
    _broker_options(dashboard)
    dashboard.add_argument("--listen", type=_host_port, default="127.0.0.1:8088",
                           help="HTTP HOST:PORT to serve the page on (port 0: any free port)")
    dashboard.add_argument("--assets-dir", type=Path, default=None,
                           help="folder where 'npm install --prefix DIR chart.js' put Chart.js "
                           "(default: the system's libjs-chart.js)")
    dashboard.add_argument("--push-interval-s", type=_positive_seconds, default=0.5,
                           help="how often the page receives changes")
    dashboard.set_defaults(handler=run_dashboard)
    exporter = subparsers.add_parser(
        "exporter", help="Prometheus metrics of every device under the prefix")
    _broker_options(exporter)
    exporter.add_argument("--listen", type=_host_port, default="127.0.0.1:9108",
                          help="HTTP HOST:PORT serving /metrics")
    exporter.set_defaults(handler=run_exporter)


def _fleet_and_link(args: argparse.Namespace) -> Any:
    from edge_agent.dashboard.fleet_state import FleetState, site_rules
    from edge_agent.dashboard.mqtt_source import BrokerLink, BrokerSettings

    try:
        sites = site_rules(args.site)
    except ValueError as error:
        raise UsageError(str(error)) from None
    for option in ("tls_ca_file", "tls_cert_file", "tls_key_file"):
        path = getattr(args, option)
        if path and not Path(path).is_file():
            raise UsageError(f"--{option.replace('_', '-')} {path}: no such file")
    if bool(args.tls_cert_file) != bool(args.tls_key_file) or (
            args.tls_cert_file and not args.tls_ca_file):
        raise UsageError("--tls-cert-file and --tls-key-file go together, with --tls-ca-file")
    fleet = FleetState(args.prefix, sites, stale_after_s=args.stale_after_s)
    host, _, port = args.broker.rpartition(":")
    settings = BrokerSettings(host, int(port), args.username, os.environ.get(PASSWORD_ENV, ""),
                              args.tls_ca_file, args.tls_cert_file, args.tls_key_file)
    return fleet, BrokerLink(settings, fleet)


def _say(line: str) -> None:
    """One line for the operator (the URL to open), flushed at once for journals and tests."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def start_dashboard(broker_host: str, broker_port: int, prefix: str,
                    listen: str = "127.0.0.1:0") -> Tuple[str, Callable[[], None]]:
    """Serve the page in this process (the demo's `--dashboard`); (URL, stop)."""
    from edge_agent.dashboard.assets import find_chart_js, missing_chart_js_hint
    from edge_agent.dashboard.fleet_state import FleetState
    from edge_agent.dashboard.mqtt_source import BrokerLink, BrokerSettings
    from edge_agent.dashboard.server import DashboardModel, DashboardServer, make_handler

    fleet = FleetState(prefix, ())
    link = BrokerLink(BrokerSettings(broker_host, broker_port), fleet)
    chart_js = find_chart_js(None)
    model = DashboardModel(fleet, link, chart_js,
                           "" if chart_js else missing_chart_js_hint(None), 0.5)
    host, _, port = listen.rpartition(":")
    server = DashboardServer((host, int(port)), make_handler(model))
    link.start()
    threading.Thread(target=server.serve_forever, name="dashboard-http", daemon=True).start()

    def stop() -> None:
        server.close()
        link.stop()

    return f"http://{host}:{server.server_address[1]}/", stop


def run_dashboard(args: argparse.Namespace) -> int:
    """Serve the page until SIGINT/SIGTERM."""
    from edge_agent.dashboard.assets import find_chart_js, missing_chart_js_hint
    from edge_agent.dashboard.server import DashboardModel, DashboardServer, make_handler

    fleet, link = _fleet_and_link(args)
    chart_js = find_chart_js(args.assets_dir)
    hint = "" if chart_js else missing_chart_js_hint(args.assets_dir)
    if hint:
        _say(f"warning: {hint}")
    model = DashboardModel(fleet, link, chart_js, hint, args.push_interval_s)
    host, _, port = args.listen.rpartition(":")
    try:
        server = DashboardServer((host, int(port)), make_handler(model))
    except OSError as error:
        raise UsageError(f"--listen {args.listen}: cannot serve there ({error.strerror}); "
                         "pick a free port") from None
    link.start()
    threading.Thread(target=server.serve_forever, name="dashboard-http", daemon=True).start()
    _say(f"dashboard: http://{host}:{server.server_address[1]}/ (broker {args.broker}, "
         f"prefix {args.prefix})")
    try:
        _wait_for_signal()
    finally:
        server.close()
        link.stop()
    return int(ExitCode.OK)


def run_exporter(args: argparse.Namespace) -> int:
    """Serve /metrics until SIGINT/SIGTERM."""
    try:
        from edge_agent.dashboard.exporter import serve_metrics
    except ImportError as error:  # prometheus-client is an extra, not a base dependency
        raise ConfigError(f"the exporter needs prometheus-client ({error})",
                          "pip install 'edge-agent[dashboard]'") from None

    fleet, link = _fleet_and_link(args)
    host, _, port = args.listen.rpartition(":")
    try:
        server = serve_metrics(fleet, link, host, int(port))
    except OSError as error:
        raise UsageError(f"--listen {args.listen}: cannot serve there ({error.strerror}); "
                         "pick a free port") from None
    link.start()
    _say(f"exporter: http://{host}:{server.server_address[1]}/metrics (broker {args.broker}, "
         f"prefix {args.prefix})")
    try:
        _wait_for_signal()
    finally:
        server.shutdown()
        link.stop()
    return int(ExitCode.OK)
