"""deploy/mosquitto/ run for real: mTLS, the identity plugin, per-device ACL with %u, and the
agent's TLS checks. The plugin is compiled from deploy/mosquitto/edge_identity.c once per run
(build-identity-plugin.sh); a machine without a C compiler or the Mosquitto headers fails
here with the packages to install, never skips."""

from __future__ import annotations

import os
import ssl
import subprocess
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

    def __init__(self, tmp_path: Path, certs: Path, plugin: Path) -> None:
        super().__init__(tmp_path)
        self._certs = certs
        self._plugin = plugin

    def _write_config(self) -> Path:
        self._dir.mkdir(parents=True, exist_ok=True)
        text = (DEPLOY / "mosquitto.conf").read_text()
        text = text.replace("/etc/mosquitto/edge-agent/acl", str(self._dir / "acl"))
        text = text.replace("/etc/mosquitto/edge-agent/", f"{self._certs}/")
        text = text.replace("/var/lib/mosquitto/", f"{self._dir}/")
        text = text.replace("/usr/lib/mosquitto/edge_identity.so", str(self._plugin))
        text = text.replace("listener 8883", f"listener {self.port} 127.0.0.1")
        assert str(self.port) in text and "/etc/" not in text.replace("# ", "#")
        text += "\nlog_type all\n" + ("user root\n" if os.geteuid() == 0 else "")
        (self._dir / "acl").write_text((DEPLOY / "acl").read_text())
        config = self._dir / "mosquitto.conf"
        config.write_text(text)
        return config


@pytest.fixture(scope="module")
def identity_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plugin") / "edge_identity.so"
    built = subprocess.run(
        ["sh", str(DEPLOY / "build-identity-plugin.sh"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, f"cannot build the identity plugin:\n{built.stderr}"
    return out


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    certs = tmp_path / "certs"
    ca = make_ca(certs)
    make_cert(certs, ca, "server", "localhost", server=True)
    for cn in ("dev1", "dev2", "homeassistant", "operator"):
        make_cert(certs, ca, cn, cn)
    make_cert(certs, make_ca(certs / "other", "rogue"), "rogue", "dev1")
    return certs


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Path, identity_plugin: Path) -> Iterator[DeployBroker]:
    broker = DeployBroker(tmp_path, pki, identity_plugin)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _tls_client(
    port: int, pki: Path, cert: Path, received: List[Tuple[str, bytes]], client_id: str = ""
) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
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


def _connack_of(port: int, pki: Path, cert: Path, client_id: str) -> str:
    """CONNECT with ``cert`` as ``client_id`` (resuming any session); the broker's answer."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    client.tls_set(
        ca_certs=str(pki / "ca.crt"), certfile=str(cert), keyfile=str(cert.with_suffix(".key"))
    )
    answer: List[str] = []
    client.on_connect = lambda c, u, f, rc, p: answer.append(str(rc))
    client.connect("127.0.0.1", port, clean_start=False)
    client.loop_start()
    try:
        wait_until(lambda: bool(answer), 5.0, f"CONNACK for {client_id}")
    finally:
        client.disconnect()
        client.loop_stop()
    return answer[0]


def test_an_imposter_cannot_take_over_a_device(
    tls_broker: DeployBroker, pki: Path, tmp_path: Path
) -> None:
    status_seen: List[Tuple[str, bytes]] = []
    watcher = _tls_client(tls_broker.port, pki, pki / "homeassistant.crt", status_seen, "ha-1")
    watcher.subscribe([("edge-agent/dev1/status", 1), ("edge-agent/dev1/available", 1)])
    operator = _tls_client(tls_broker.port, pki, pki / "operator.crt", [], "operator-1")
    commands: List[bytes] = []

    def on_command(payload: bytes) -> List[Any]:
        commands.append(payload)
        return []

    def device() -> DurablePublisher:
        agent = _agent(tls_broker.port, pki, tmp_path)
        agent.add_subscription("edge-agent/dev1/cmd/#", on_command)
        return agent

    agent = device()
    agent.start()
    try:
        assert agent.wait_connected(5.0), agent.stats()
        wait_until(
            lambda: ("edge-agent/dev1/available", b"online") in status_seen, 5.0, "online twin"
        )
        # While the device is online: a trusted certificate of another device asks for its
        # ids and is refused; the device is not disconnected.
        for stolen in ("edge-agent-dev1", "edge-agent-dev1-avail"):
            assert "Not authorized" in _connack_of(tls_broker.port, pki, pki / "dev2.crt", stolen)
        assert "Success" in _connack_of(tls_broker.port, pki, pki / "dev2.crt", "edge-agent-dev2")
        time.sleep(0.5)  # a takeover would fire the will and drop the link within this time
        assert agent.stats().connected and agent.session == 1
        assert ("edge-agent/dev1/available", b"offline") not in status_seen
        assert not any(b'"offline"' in payload for _, payload in status_seen)
    finally:
        agent.stop(3.0)
    # Commands queued for the stopped device's persistent session survive an imposter's try.
    for n in range(3):
        operator.publish("edge-agent/dev1/cmd/ping", str(n).encode(), qos=1).wait_for_publish(5)
    imposter = _connack_of(tls_broker.port, pki, pki / "dev2.crt", "edge-agent-dev1")
    assert "Not authorized" in imposter
    agent = device()
    agent.start()
    try:
        assert agent.wait_connected(5.0), agent.stats()
        wait_until(lambda: len(commands) >= 3, 5.0, "the queued commands")
        assert sorted(commands) == [b"0", b"1", b"2"]
        assert agent.session == 2, "the session counter continues across restarts"
    finally:
        agent.stop(3.0)
        for client in (watcher, operator):
            client.disconnect()
            client.loop_stop()
    assert "edge_identity: refused client id 'edge-agent-dev1'" in tls_broker.log_text()
