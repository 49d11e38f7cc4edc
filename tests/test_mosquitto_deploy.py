"""deploy/mosquitto/ run for real: mTLS, per-device ACL with %u, and the agent's TLS checks."""

from __future__ import annotations

import os
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import paho.mqtt.client as mqtt
import pytest
from durable_helpers import event, mqtt_settings, outbox_settings, wait_until
from mosquitto_broker import MosquittoBroker
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from tls_certs import make_ca, make_cert

from edge_agent.errors import ConfigError
from edge_agent.transport.durable_publisher import DurablePublisher
from edge_agent.transport.tls import build_tls_context

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto"


class DeployBroker(MosquittoBroker):
    """mosquitto with deploy/mosquitto.conf + acl, paths and port moved into tmp_path."""

    def __init__(self, tmp_path: Path, certs: Path) -> None:
        super().__init__(tmp_path)
        self._certs = certs

    def _write_config(self) -> Path:
        self._dir.mkdir(parents=True, exist_ok=True)
        text = (DEPLOY / "mosquitto.conf").read_text()
        text = text.replace("/etc/mosquitto/edge-agent/acl", str(self._dir / "acl"))
        text = text.replace("/etc/mosquitto/edge-agent/", f"{self._certs}/")
        text = text.replace("/var/lib/mosquitto/", f"{self._dir}/")
        text = text.replace("listener 8883", f"listener {self.port} 127.0.0.1")
        assert str(self.port) in text and "/etc/" not in text.replace("# ", "#")
        text += "\nlog_type all\n" + ("user root\n" if os.geteuid() == 0 else "")
        (self._dir / "acl").write_text((DEPLOY / "acl").read_text())
        config = self._dir / "mosquitto.conf"
        config.write_text(text)
        return config


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    certs = tmp_path / "certs"
    ca = make_ca(certs)
    make_cert(certs, ca, "server", "localhost", server=True)
    for cn in ("dev1", "homeassistant", "operator"):
        make_cert(certs, ca, cn, cn)
    make_cert(certs, make_ca(certs / "other", "rogue"), "rogue", "dev1")
    return certs


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Path) -> Iterator[DeployBroker]:
    broker = DeployBroker(tmp_path, pki)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _tls_client(port: int, pki: Path, cert: Path, received: List[Tuple[str, bytes]]) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.tls_set(
        ca_certs=str(pki / "ca.crt"), certfile=str(cert), keyfile=str(cert.with_suffix(".key"))
    )
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set()
    client.on_message = lambda c, u, m: received.append((m.topic, bytes(m.payload)))
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.wait(5.0)
    return client


def _agent(port: int, pki: Path, tmp_path: Path, **extra: Any) -> DurablePublisher:
    settings = mqtt_settings(
        port,
        tls_ca_file=pki / "ca.crt",
        tls_cert_file=pki / "dev1.crt",
        tls_key_file=pki / "dev1.key",
        **extra,
    )
    return DurablePublisher(settings, outbox_settings(tmp_path), "dev1", "1.0")


def test_device_writes_only_its_subtree(
    tls_broker: DeployBroker, pki: Path, tmp_path: Path
) -> None:
    seen: List[Tuple[str, bytes]] = []
    consumer = _tls_client(tls_broker.port, pki, pki / "homeassistant.crt", seen)
    consumer.subscribe("edge-agent/#", qos=1)
    agent = _agent(tls_broker.port, pki, tmp_path)
    agent.start()
    try:
        assert agent.wait_connected(5.0), agent.stats()
        agent.publish(event(1))
        agent.publish(event(2, topic="edge-agent/dev2/cam1/event"))  # someone else's subtree
        wait_until(lambda: agent.stats().failed == 1, 5.0, "the ACL refusal")
        assert agent.flush(5.0)
        wait_until(lambda: any(t == "edge-agent/dev1/cam1/event" for t, _ in seen), 5.0, "event")
        assert not any(t.startswith("edge-agent/dev2/") for t, _ in seen)
        assert agent.outbox_counters().rejected == 1
    finally:
        agent.stop(3.0)
        consumer.disconnect()
        consumer.loop_stop()


def test_device_reads_only_its_own_commands(tls_broker: DeployBroker, pki: Path) -> None:
    got: List[Tuple[str, bytes]] = []
    device = _tls_client(tls_broker.port, pki, pki / "dev1.crt", got)
    operator = _tls_client(tls_broker.port, pki, pki / "operator.crt", [])
    ha = _tls_client(tls_broker.port, pki, pki / "homeassistant.crt", [])
    try:
        device.subscribe([("edge-agent/dev1/cmd/#", 1), ("edge-agent/dev2/cmd/#", 1), ("#", 1)])
        time.sleep(0.5)  # let the SUBSCRIBE land before publishing
        operator.publish("edge-agent/dev2/cmd/ping", b"2", qos=1).wait_for_publish(5)
        operator.publish("edge-agent/dev1/cmd/ping", b"1", qos=1).wait_for_publish(5)
        ha.publish("homeassistant/status", b"online", qos=1).wait_for_publish(5)
        wait_until(lambda: ("edge-agent/dev1/cmd/ping", b"1") in got, 5.0, "own command")
        wait_until(lambda: ("homeassistant/status", b"online") in got, 5.0, "HA birth")
        # overlapping subscriptions may deliver a message twice; what matters is which arrive
        assert set(got) == {("edge-agent/dev1/cmd/ping", b"1"), ("homeassistant/status", b"online")}
    finally:
        for client in (device, operator, ha):
            client.disconnect()
            client.loop_stop()


def test_clients_without_a_trusted_certificate_are_refused(
    tls_broker: DeployBroker, pki: Path
) -> None:
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "rogue.crt"), str(pki / "rogue.key"))
    for ctx in (ssl.create_default_context(cafile=str(pki / "ca.crt")), context):
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        client.tls_set_context(ctx)
        with pytest.raises((ssl.SSLError, OSError)):
            client.connect("127.0.0.1", tls_broker.port)
            for _ in range(20):
                client.loop(0.1)
                assert not client.is_connected()
            raise OSError("not connected, as expected")


def test_agent_with_the_wrong_ca_names_the_setting(
    tls_broker: DeployBroker, pki: Path, tmp_path: Path
) -> None:
    settings = mqtt_settings(
        tls_broker.port,
        tls_ca_file=pki / "other" / "rogue.crt",
        tls_cert_file=pki / "dev1.crt",
        tls_key_file=pki / "dev1.key",
    )
    agent = DurablePublisher(settings, outbox_settings(tmp_path), "dev1", "1.0")
    agent.start()
    try:
        wait_until(lambda: "mqtt.tls_ca_file" in agent.stats().last_error, 5.0, "TLS error")
    finally:
        agent.stop(2.0)


def test_bad_tls_files_are_refused_at_start(pki: Path, tmp_path: Path) -> None:
    missing = mqtt_settings(1, tls_ca_file=tmp_path / "nope.crt")
    with pytest.raises(ConfigError, match="mqtt.tls_ca_file"):
        build_tls_context(missing)
    (pki / "dev1.key").chmod(0o644)
    loose = mqtt_settings(
        1, tls_ca_file=pki / "ca.crt", tls_cert_file=pki / "dev1.crt", tls_key_file=pki / "dev1.key"
    )
    with pytest.raises(ConfigError, match="mqtt.tls_key_file.*0644"):
        build_tls_context(loose)
    (pki / "dev1.key").chmod(0o600)
    swapped = mqtt_settings(
        1,
        tls_ca_file=pki / "ca.crt",
        tls_cert_file=pki / "dev1.crt",
        tls_key_file=pki / "homeassistant.key",
    )
    with pytest.raises(ConfigError, match="tls_cert_file / mqtt.tls_key_file"):
        build_tls_context(swapped)
