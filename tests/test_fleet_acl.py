"""The broker ACL is the first wall: the shipped acl plus acl.fleet on a real mosquitto. A
device receives its own and the fleet-wide commands, never another device's; a device cannot
command another; the operator can command all."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator, List

import pytest
from mosquitto_broker import MosquittoBroker

from edge_agent.fleet.channel import MessageProperties
from edge_agent.fleet.paho_link import LinkOptions, PahoLink

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto"
USERS = {"dev-a": "pa", "dev-b": "pb", "operator": "po"}


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    lines = (DEPLOY / "acl").read_text().splitlines()
    lines += (DEPLOY / "acl.fleet").read_text().splitlines()
    broker = MosquittoBroker(tmp_path, users=USERS, acl_lines=lines)
    broker.start()
    yield broker
    broker.stop()


def _link(broker: MosquittoBroker, user: str) -> PahoLink:
    return PahoLink(LinkOptions(port=broker.port, client_id=f"{user}-c", username=user,
                                password=USERS[user], session_expiry_s=0))


def test_devices_read_only_their_own_and_fleet_commands(acl_broker: MosquittoBroker) -> None:
    got: List[str] = []

    def record(topic: str, payload: bytes, props: MessageProperties) -> None:
        got.append(f"{topic}={payload.decode()}")

    device = _link(acl_broker, "dev-a")
    for topic in ("edge-agent/dev-a/cmd/req", "edge-agent/dev-b/cmd/req",
                  "edge-agent-fleet/all/cmd/req", "edge-agent-fleet/site/lobby/cmd/req"):
        device.subscribe(topic, record)
    device.start()
    operator = _link(acl_broker, "operator").start()
    intruder = _link(acl_broker, "dev-b").start()
    try:
        denied = intruder.publish("edge-agent/dev-a/cmd/req", b"from-dev-b")  # the ACL drops it
        denied.wait_for_publish(10)  # acknowledged (and handled) before the operator sends
        for topic in ("edge-agent/dev-a/cmd/req", "edge-agent/dev-b/cmd/req",
                      "edge-agent-fleet/all/cmd/req", "edge-agent-fleet/site/lobby/cmd/req"):
            operator.publish(topic, b"op")
        operator.publish("edge-agent-fleet/all/cmd/req", b"last")
        deadline = time.monotonic() + 10
        while "edge-agent-fleet/all/cmd/req=last" not in got:
            assert time.monotonic() < deadline, got
            time.sleep(0.02)
    finally:
        for link in (device, operator, intruder):
            link.stop()
    assert sorted(got) == sorted([
        "edge-agent/dev-a/cmd/req=op", "edge-agent-fleet/all/cmd/req=op",
        "edge-agent-fleet/site/lobby/cmd/req=op", "edge-agent-fleet/all/cmd/req=last",
    ])  # nothing of dev-b's, nothing from dev-b
