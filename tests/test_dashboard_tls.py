"""The dashboard's link against deploy/mosquitto/ for real: mutual TLS with the 'dashboard'
certificate that the deployed ACL grants read access, reading what a device published."""

from __future__ import annotations

import time
from pathlib import Path
from typing import List, Tuple

from test_mosquitto_deploy import DeployBroker, _tls_client, identity_plugin  # noqa: F401
from tls_certs import make_ca, make_cert

from edge_agent.dashboard.fleet_state import FleetState
from edge_agent.dashboard.mqtt_source import BrokerLink, BrokerSettings
from edge_agent.events.topics import Topics
from edge_agent.events.track_payloads import ZoneCountPayload


def test_dashboard_certificate_reads_device_topics(tmp_path: Path,
                                                  identity_plugin: Path) -> None:  # noqa: F811
    certs = tmp_path / "certs"
    ca = make_ca(certs)
    make_cert(certs, ca, "server", "localhost", server=True)
    for cn in ("dev1", "dashboard"):
        make_cert(certs, ca, cn, cn)
    broker = DeployBroker(tmp_path, certs, identity_plugin)
    broker.start()
    received: List[Tuple[str, bytes]] = []
    device = _tls_client(broker.port, certs, certs / "dev1.crt", received)
    fleet = FleetState("edge-agent")
    link = BrokerLink(BrokerSettings(
        "localhost", broker.port, tls_ca_file=str(certs / "ca.crt"),
        tls_cert_file=str(certs / "dashboard.crt"), tls_key_file=str(certs / "dashboard.key")),
        fleet)
    try:
        count = ZoneCountPayload(camera_id="cam1", zone="hall", count=3, active=1, ts=1.0,
                                 restored=False, standin=False)
        device.publish(Topics("edge-agent", "dev1").zone_count("cam1", "hall"),
                       count.model_dump_json(), qos=1, retain=True).wait_for_publish(5)
        link.start()
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and "dev1" not in fleet.devices:
            time.sleep(0.05)
        assert link.state == "connected", link.detail
        assert fleet.devices["dev1"].cameras["cam1"].zones["hall"].people == 3
    finally:
        link.stop()
        device.disconnect()
        device.loop_stop()
        broker.stop()
