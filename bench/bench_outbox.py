"""Sustained events/s: outbox → broker → subscriber, against paho publishing directly.

All modes run in one process against one private mosquitto (started here on a free port),
with one subscriber counting QoS 1 deliveries; the rate is events / (first publish → last
delivery). The modes run interleaved over ``--rounds`` rounds (direct, NORMAL, FULL, direct,
...), each outbox run on a fresh file, so drift of a shared machine hits every mode alike;
medians and the spread (min..max) are reported, with the ratio to direct per round.
Usage: python bench/bench_outbox.py [--events 20000] [--payload-bytes 300] [--rounds 5]

The outbox runs with its storage policy: the bound covers the files on disk (database + WAL,
``outbox.max_bytes``, default 256 MiB), the WAL is checkpointed at and truncated to its share
(1/8 of the bound, at most 4 MiB) and the row budget is calibrated against the pages SQLite
uses (two header reads per commit).

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
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.settings import MqttSettings, OutboxSettings
from edge_agent.transport.durable_publisher import DurablePublisher
from edge_agent.transport.outbox_budget import row_budget_bytes, wal_limit_bytes

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


def run_outbox(
    port: int, counter: Counter, events: int, size: int, sync: str, work: Path, max_bytes: int
) -> float:
    path = work / f"outbox-{sync}-{time.monotonic_ns()}.sqlite"
    publisher = DurablePublisher(
        MqttSettings(port=port, telemetry_interval_s=0, ha_discovery=False),
        OutboxSettings(path=path, synchronous=sync, max_bytes=max_bytes),  # type: ignore[arg-type]
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


TARGET_FULL_EVENTS_S = 0.9 * 7400  # 0.9 x the FULL rate measured before the storage policy
TARGET_RATIO = 0.8
DIRECT = "paho direct (RAM only)"


def _summary(values: List[float]) -> str:
    return f"median {statistics.median(values):8.0f}  spread {min(values):.0f}..{max(values):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--payload-bytes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-bytes", type=int, default=256 * 1024 * 1024)
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
    names = [DIRECT, "outbox synchronous=NORMAL", "outbox synchronous=FULL"]
    rates: Dict[str, List[float]] = {name: [] for name in names}
    try:
        time.sleep(0.5)
        counter = Counter(port)
        for round_no in range(args.rounds):
            rates[DIRECT].append(run_direct(port, counter, args.events, args.payload_bytes))
            for sync in ("NORMAL", "FULL"):
                rates[f"outbox synchronous={sync}"].append(
                    run_outbox(
                        port, counter, args.events, args.payload_bytes, sync, work, args.max_bytes
                    )
                )
            line = "  ".join(f"{name}: {rates[name][-1]:.0f}" for name in names)
            print(f"round {round_no + 1}/{args.rounds}: {line}", flush=True)
        counter.stop()
    finally:
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"{args.events} QoS 1 events of ~{args.payload_bytes} B, publish -> subscriber, "
        f"{args.rounds} interleaved rounds; outbox bound {args.max_bytes} B "
        f"(WAL share {wal_limit_bytes(args.max_bytes)} B, "
        f"rows {row_budget_bytes(args.max_bytes)} B):"
    )
    for name in names:
        ratios = [rate / direct for rate, direct in zip(rates[name], rates[DIRECT])]
        print(
            f"  {name:28s} {_summary(rates[name])} events/s   "
            f"ratio to direct median {statistics.median(ratios):.2f} "
            f"({min(ratios):.2f}..{max(ratios):.2f})"
        )
    full = statistics.median(rates["outbox synchronous=FULL"])
    ratio = statistics.median(
        [f / d for f, d in zip(rates["outbox synchronous=FULL"], rates[DIRECT])]
    )
    print(
        f"targets: FULL >= {TARGET_FULL_EVENTS_S:.0f} events/s: "
        f"{'met' if full >= TARGET_FULL_EVENTS_S else 'MISSED'}; FULL/direct >= {TARGET_RATIO}: "
        f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
