"""The broker link tells the page which failure it is: credentials refused (CONNACK reason),
broker unreachable (no TCP connection); it retries and connects once the cause is gone."""

from __future__ import annotations

import time
from pathlib import Path

from mosquitto_broker import MosquittoBroker

from edge_agent.dashboard.fleet_state import FleetState
from edge_agent.dashboard.mqtt_source import BrokerLink, BrokerSettings


def wait_state(link: BrokerLink, state: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and link.state != state:
        time.sleep(0.05)
    assert link.state == state, f"state {link.state!r} ({link.detail}), wanted {state!r}"


def test_wrong_password_is_reported_as_refused(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path, users={"dash": "right"})
    broker.start()
    fleet = FleetState("edge-agent")
    link = BrokerLink(BrokerSettings("127.0.0.1", broker.port, "dash", "wrong"), fleet)
    link.start()
    try:
        wait_state(link, "refused", 10)
        assert "refused the login" in link.detail and "--username" in link.detail
        assert fleet.source_down
        assert link.view()["attempts"] >= 1
    finally:
        link.stop()
        broker.stop()


def test_unreachable_then_connected_when_the_broker_starts(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path)  # port reserved, not started yet
    fleet = FleetState("edge-agent")
    link = BrokerLink(BrokerSettings("127.0.0.1", broker.port), fleet)
    link.start()
    try:
        wait_state(link, "unreachable", 10)
        assert "unreachable" in link.detail and fleet.source_down
        broker.start()
        wait_state(link, "connected", 40)  # paho's back-off is at most 30 s
        assert not fleet.source_down
    finally:
        link.stop()
        broker.stop()


def test_dashboard_command_refuses_bad_options_naming_them() -> None:
    import socket
    import subprocess
    import sys

    def run(*args: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([sys.executable, "-m", "edge_agent", "dashboard", *args],
                              capture_output=True, text=True, timeout=60)

    result = run("--stale-after-s", "0")
    assert result.returncode == 64 and "--stale-after-s" in result.stderr
    result = run("--tls-cert-file", "/nonexistent.crt")
    assert result.returncode == 64 and "--tls-cert-file /nonexistent.crt" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run("--listen", f"127.0.0.1:{port}", "--broker", "127.0.0.1:1")
    assert result.returncode == 64 and "pick a free port" in result.stderr
    assert "Traceback" not in result.stderr
