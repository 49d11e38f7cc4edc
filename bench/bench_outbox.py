"""Sustained events/s: outbox → broker → subscriber, against paho publishing directly.

All modes run in one process against one private mosquitto (started here on a free port),
with one subscriber counting QoS 1 deliveries; the rate is events / (first publish → last
delivery). Usage: python bench/bench_outbox.py [--events 20000] [--payload-bytes 300]

Durability of each mode:
- paho direct (QoS 1): survives reconnects only; everything unacknowledged is lost when the
  process dies (paho keeps its queue in RAM).
- outbox synchronous=NORMAL: committed events survive a crash/SIGKILL; the last commits may
  be lost on power loss.
- outbox synchronous=FULL (default): every commit is fsynced; committed events survive power
  loss.
Both outbox modes use group commit (publish() stages in RAM, one transaction per batch), so a
SIGKILL or power loss can also take the events staged in the last milliseconds; an event is
always committed before it is sent.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.settings import MqttSettings, OutboxSettings
from edge_agent.transport.durable_publisher import DurablePublisher

TOPIC = "bench/dev/cam/event"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Counter:
    """A subscriber that counts deliveries on TOPIC."""

    def __init__(self, port: int) -> None:
        self.count = 0
        self.done = threading.Event()
        self.target = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self._client.on_message = self._on_message
        ready = threading.Event()
        self._client.on_subscribe = lambda *a: ready.set()
        self._client.on_connect = lambda c, *a: c.subscribe(TOPIC, qos=1)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        if not ready.wait(5):
            raise RuntimeError("subscriber could not subscribe")

    def arm(self, target: int) -> None:
        self.count, self.target = 0, target
        self.done.clear()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def _payload(seq: int, size: int) -> bytes:
    document = {"seq": seq, "replayed": False, "pad": "x" * max(0, size - 40)}
    return json.dumps(document, separators=(",", ":")).encode()


def run_direct(port: int, counter: Counter, events: int, size: int) -> float:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port)
    client.loop_start()
    counter.arm(events)
    start = time.perf_counter()
    for seq in range(events):
        client.publish(TOPIC, _payload(seq, size), qos=1)
    if not counter.done.wait(120):
        raise RuntimeError(f"direct: {counter.count} of {events} delivered")
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return events / elapsed


def run_outbox(port: int, counter: Counter, events: int, size: int, sync: str, work: Path) -> float:
    path = work / f"outbox-{sync}.sqlite"
    publisher = DurablePublisher(
        MqttSettings(port=port, telemetry_interval_s=0, ha_discovery=False),
        OutboxSettings(path=path, synchronous=sync),  # type: ignore[arg-type]
        "dev",
        "bench",
    )
    publisher.start()
    if not publisher.wait_connected(5):
        raise RuntimeError("outbox: not connected")
    counter.arm(events)
    start = time.perf_counter()
    for seq in range(events):
        publisher.publish(OutgoingMessage(TOPIC, _payload(seq, size), 1, False, "event"))
    if not counter.done.wait(120):
        raise RuntimeError(f"outbox: {counter.count} of {events} delivered")
    elapsed = time.perf_counter() - start
    publisher.stop(5)
    return events / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--payload-bytes", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    port = _free_port()
    config = work / "mosquitto.conf"
    # A subscriber slower than the publisher must not lose messages in the broker (default
    # max_queued_messages 1000 drops beyond that), or the comparison measures the broker.
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n")
    broker = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        counter = Counter(port)
        results: Dict[str, float] = {}
        results["paho direct (RAM only)"] = run_direct(
            port, counter, args.events, args.payload_bytes
        )
        for sync in ("NORMAL", "FULL"):
            name = f"outbox synchronous={sync}"
            results[name] = run_outbox(port, counter, args.events, args.payload_bytes, sync, work)
        counter.stop()
    finally:
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    direct = results["paho direct (RAM only)"]
    print(f"{args.events} QoS 1 events of ~{args.payload_bytes} B, publish → subscriber:")
    for name, rate in results.items():
        print(f"  {name:28s} {rate:8.0f} events/s  ({rate / direct:.2f}x direct)")


if __name__ == "__main__":
    main()
