"""Group commit on a real SQLite file: batching, order, sync, back-pressure, per-publish commit."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import List, Tuple

from durable_helpers import DEVICE, event, mqtt_settings, outbox_settings
from mosquitto_broker import free_port

from edge_agent.transport.durable_publisher import DurablePublisher
from edge_agent.transport.outbox import Outbox
from edge_agent.transport.outbox_records import OutboxRow
from edge_agent.transport.outbox_writer import OutboxWriter


def _writer(tmp_path: Path, commits: List[int]) -> Tuple[OutboxWriter, Outbox]:
    outbox = Outbox(outbox_settings(tmp_path))
    outbox.open()
    return OutboxWriter(outbox, lambda: commits.append(1), lambda count, reason: None), outbox


def _rows_after_reopen(tmp_path: Path, outbox: Outbox) -> List[OutboxRow]:
    outbox.close()
    reopened = Outbox(outbox_settings(tmp_path))
    reopened.open()
    try:
        return reopened.fetch(0, 5000)
    finally:
        reopened.close()


def test_events_staged_during_a_commit_share_the_next_one(tmp_path: Path) -> None:
    commits: List[int] = []
    writer, outbox = _writer(tmp_path, commits)
    writer.start()
    try:
        tickets = [writer.stage(event(seq)) for seq in range(2000)]
        assert writer.sync(10.0)
        assert tickets == list(range(1, 2001))
        assert writer.uncommitted() == 0
    finally:
        writer.stop(5.0)
    rows = _rows_after_reopen(tmp_path, outbox)
    assert [int(row.payload.split(b":")[1].split(b",")[0]) for row in rows] == list(range(2000))
    assert len(commits) < 2000 / 4, f"{len(commits)} commits for 2000 events: not grouped"


def test_deletions_ride_along_and_stop_commits_what_is_staged(tmp_path: Path) -> None:
    commits: List[int] = []
    writer, outbox = _writer(tmp_path, commits)
    writer.start()
    for seq in range(10):
        writer.stage(event(seq))
    assert writer.sync(5.0)
    writer.delete(list(range(1, 6)))
    for seq in range(10, 15):
        writer.stage(event(seq))
    writer.stop(5.0)  # commits the last five and the deletions before it ends
    assert writer.stage(event(99)) is None  # refused after stop
    assert [row.id for row in _rows_after_reopen(tmp_path, outbox)] == list(range(6, 16))


def test_concurrent_producers_keep_their_own_order(tmp_path: Path) -> None:
    commits: List[int] = []
    writer, outbox = _writer(tmp_path, commits)
    writer.start()

    def produce(topic: str) -> None:
        for seq in range(300):
            writer.stage(event(seq, topic=topic))

    threads = [threading.Thread(target=produce, args=(f"t/{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.sync(10.0)
    writer.stop(5.0)
    rows = _rows_after_reopen(tmp_path, outbox)
    for n in range(3):
        seqs = [int(r.payload.split(b":")[1].split(b",")[0]) for r in rows if r.topic == f"t/{n}"]
        assert seqs == list(range(300))


def test_publish_waits_for_commit_when_configured(tmp_path: Path) -> None:
    publisher = DurablePublisher(
        mqtt_settings(free_port()),  # nothing listens: everything stays queued
        outbox_settings(tmp_path, publish_waits_for_commit=True),
        DEVICE,
        "1.0",
    )
    publisher.start()
    try:
        for seq in range(5):
            publisher.publish(event(seq))
            assert publisher.outbox_counters().depth == seq + 1  # on disk when publish returns
        assert publisher.stats().pending == 5
    finally:
        publisher.stop(1.0)
