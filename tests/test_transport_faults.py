"""Fault tests against a real broker: outage, hang, SIGKILL, full outbox, cut connections.

Pass rules follow docs/reliability.md section 6 (R1, R2, R4, R6, R7): 0 events lost, first
copies in order, every duplicate flagged ``replayed``. EDGE_AGENT_OUTAGE_S shortens the 60 s
outage for local runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List

import pytest
from durable_helpers import (
    DEVICE,
    ROOT,
    check_delivery,
    event,
    is_event,
    mqtt_settings,
    outbox_settings,
    wait_until,
)
from fault_proxy import FaultProxy
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber

from edge_agent.transport.durable_publisher import DurablePublisher

OUTAGE_S = float(os.environ.get("EDGE_AGENT_OUTAGE_S", "60"))
TESTS = Path(__file__).resolve().parent
SUB_ID = "fault-test-sub"


class Ticker:
    """Publishes event(n) at rate_hz on its own thread until stopped."""

    def __init__(self, publisher: DurablePublisher, rate_hz: float) -> None:
        self._publisher = publisher
        self._period_s = 1.0 / rate_hz
        self._stop = threading.Event()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="ticker")

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            self._publisher.publish(event(self.sent))
            self.sent += 1


@pytest.mark.slow
@pytest.mark.timeout(OUTAGE_S + 90)
def test_broker_stopped_for_an_outage_loses_nothing(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    received: List[Received] = []
    publisher = DurablePublisher(
        mqtt_settings(broker.port), outbox_settings(tmp_path), DEVICE, "1.0"
    )
    publisher.start()
    try:
        with Subscriber(broker.port, [f"{ROOT}/#"], client_id=SUB_ID, durable=True) as sub:
            assert publisher.wait_connected(5.0)
            with Ticker(publisher, 10.0) as ticker:
                time.sleep(2.0)
                broker.stop()
                received += sub.messages()
                time.sleep(OUTAGE_S)
                assert publisher.stats().pending >= OUTAGE_S * 10 * 0.8
                broker.start()
                time.sleep(2.0)
        with Subscriber(broker.port, [f"{ROOT}/#"], client_id=SUB_ID, durable=True) as sub:
            assert publisher.flush(20.0), publisher.stats()
            total = ticker.sent
            wait_until(
                lambda: len([m for m in received + sub.messages() if is_event(m)]) >= total,
                10.0,
                "all events",
            )
            received += sub.messages()
    finally:
        publisher.stop(3.0)
    figures = check_delivery([m for m in received if is_event(m)], total)
    assert figures["replayed"] > 0
    assert publisher.stats().dropped == 0


@pytest.mark.timeout(60)
def test_hung_broker_is_detected_within_two_keepalives(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    keepalive_s = 5
    publisher = DurablePublisher(
        mqtt_settings(broker.port, keepalive_s=keepalive_s),
        outbox_settings(tmp_path),
        DEVICE,
        "1.0",
    )
    publisher.start()
    try:
        with Subscriber(broker.port, [f"{ROOT}/#"]) as sub:
            assert publisher.wait_connected(5.0)
            with Ticker(publisher, 10.0) as ticker:
                time.sleep(1.0)
                broker.freeze()
                detected_s = wait_until(
                    lambda: not publisher.stats().connected, 3 * keepalive_s, "detection"
                )
                broker.thaw()
                assert publisher.wait_connected(10.0)
                time.sleep(1.0)
            assert publisher.flush(15.0), publisher.stats()
            wait_until(
                lambda: len([m for m in sub.messages() if is_event(m)]) >= ticker.sent,
                10.0,
                "all events",
            )
            check_delivery([m for m in sub.messages() if is_event(m)], ticker.sent)
    finally:
        publisher.stop(3.0)
    assert detected_s <= 2 * keepalive_s


@pytest.mark.timeout(90)
def test_agent_killed_during_outage_delivers_everything_after_restart(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    outbox = tmp_path / "child" / "outbox.sqlite"
    broker.stop()
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    child = subprocess.Popen(
        [
            sys.executable,
            str(TESTS / "outbox_child.py"),
            str(broker.port),
            str(outbox),
            "1000",
            "50",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    committed = 0
    for line in child.stdout:
        committed = int(line.split()[1])
        if committed >= 60:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(10)
    for line in child.stdout:  # lines printed before the kill landed
        committed = max(committed, int(line.split()[1]))
    child.stdout.close()
    broker.start()
    with Subscriber(broker.port, [f"{ROOT}/#"]) as sub:
        done = subprocess.run(
            [
                sys.executable,
                str(TESTS / "outbox_child.py"),
                str(broker.port),
                str(outbox),
                "0",
                "1",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert "flushed" in done.stdout, done.stderr
        wait_until(
            lambda: len([m for m in sub.messages() if is_event(m)]) >= committed, 10.0, "delivery"
        )
        figures = check_delivery([m for m in sub.messages() if is_event(m)], committed)
    assert figures["replayed"] == figures["received"]


@pytest.mark.timeout(60)
def test_full_outbox_drops_oldest_counts_and_keeps_running(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    # A durable subscription made before the outage: the broker keeps it across its restart,
    # so what the publisher replays the moment it reconnects is queued for the subscriber
    # however the two reconnects race.
    with Subscriber(broker.port, [f"{ROOT}/#"], client_id=SUB_ID, durable=True):
        pass
    broker.stop()
    publisher = DurablePublisher(
        mqtt_settings(broker.port), outbox_settings(tmp_path, max_rows=10), DEVICE, "1.0"
    )
    publisher.start()
    try:
        for seq in range(30):
            publisher.publish(event(seq))
        assert publisher.sync(5.0)  # group commit: the counters move once the batch is on disk
        counters = publisher.outbox_counters()
        assert counters.depth == 10 and counters.dropped == 20
        broker.start()
        with Subscriber(broker.port, [f"{ROOT}/#"], client_id=SUB_ID, durable=True) as sub:
            assert publisher.flush(15.0), publisher.stats()
            publisher.publish(event(30))
            assert publisher.flush(5.0)
            wait_until(
                lambda: len([m for m in sub.messages() if is_event(m)]) >= 11, 10.0, "11 events"
            )
            seqs = [
                int(m.payload.split(b":")[1].split(b",")[0]) for m in sub.messages() if is_event(m)
            ]
        assert seqs == list(range(20, 31))
        assert publisher.stats().dropped == 20
    finally:
        publisher.stop(3.0)


@pytest.mark.timeout(60)
def test_cut_connections_lose_nothing(broker: MosquittoBroker, tmp_path: Path) -> None:
    proxy = FaultProxy(broker.port).start()
    publisher = DurablePublisher(
        mqtt_settings(proxy.port), outbox_settings(tmp_path), DEVICE, "1.0"
    )
    publisher.start()
    try:
        with Subscriber(broker.port, [f"{ROOT}/#"]) as sub:
            assert publisher.wait_connected(5.0)
            with Ticker(publisher, 100.0) as ticker:
                for _ in range(3):
                    time.sleep(1.0)
                    proxy.cut()
                    time.sleep(1.0)
                    assert not publisher.stats().connected
                    proxy.restore()
                    assert publisher.wait_connected(5.0)
                time.sleep(0.5)
            assert publisher.flush(15.0), publisher.stats()
            wait_until(
                lambda: len([m for m in sub.messages() if is_event(m)]) >= ticker.sent,
                10.0,
                "all events",
            )
            check_delivery([m for m in sub.messages() if is_event(m)], ticker.sent)
        assert publisher.session == 4
    finally:
        publisher.stop(3.0)
        proxy.stop()
