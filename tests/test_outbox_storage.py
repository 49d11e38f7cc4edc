"""A full, failing or recovering disk under a real outbox and a real mosquitto: nothing kept is
lost, nothing healthy is moved aside, the agent never exits, and it resumes by itself.

Disk faults come from tests/storage_faults.py: RLIMIT_FSIZE in a child process (always) and a
small tmpfs filled to the last block (where this machine may mount one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, List

import pytest
from durable_helpers import EVENT_TOPIC, ROOT, is_event, outbox_settings, wait_until
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber
from storage_faults import FAULT_KINDS, OUTBOX_MAX_BYTES, DiskFault

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.transport.outbox import Outbox


@pytest.fixture(params=FAULT_KINDS)
def fault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DiskFault]:
    disk = DiskFault(str(request.param), tmp_path)
    try:
        yield disk
    finally:
        disk.close()


def _seqs(messages: List[Received]) -> List[int]:
    return [int(json.loads(m.payload)["seq"]) for m in messages if is_event(m)]


def _queue_events(path: Path, count: int) -> None:
    outbox = Outbox(outbox_settings(path.parent, path=path, max_bytes=OUTBOX_MAX_BYTES))
    outbox.open()
    for seq in range(count):
        payload = json.dumps({"seq": seq, "replayed": False}).encode()
        assert outbox.append(OutgoingMessage(EVENT_TOPIC, payload, 1, False, "event"))
    outbox.close()


@pytest.mark.timeout(120)
def test_full_disk_at_start_keeps_the_outbox_and_sends_it_when_space_returns(
    broker: MosquittoBroker, fault: DiskFault
) -> None:
    _queue_events(fault.outbox_path, 401)
    with Subscriber(broker.port, [f"{ROOT}/#"]) as sub:
        child = fault.start_child(broker.port, full=True)
        try:
            stats = child.ask("stats")
            assert stats["available"] is False, stats  # running, degraded, not exited
            assert child.ask("publish 1000 5")["ok"]
            assert child.ask("stats")["refused"] >= 5
            assert not list(fault.directory.glob("*.corrupt-*")), "a healthy file moved aside"
            fault.free(child)
            child.wait_stats(lambda s: s["available"], 20.0, "the outbox to reopen")
            assert child.ask("flush 20")["flushed"], child.log()
            wait_until(lambda: len(_seqs(sub.messages())) >= 401, 10.0, "the 401 kept events")
            assert child.ask("publish 2000 10")["ok"]
            assert child.ask("flush 10")["flushed"]
            wait_until(lambda: len(_seqs(sub.messages())) >= 411, 10.0, "new events")
        finally:
            code = child.stop()
    assert code == 0, child.log()
    assert _seqs(sub.messages()) == list(range(401)) + list(range(2000, 2010))
    assert "damaged" not in child.log()


@pytest.mark.timeout(120)
def test_full_disk_mid_run_refuses_with_few_warnings_and_resumes(
    broker: MosquittoBroker, fault: DiskFault
) -> None:
    with Subscriber(broker.port, [f"{ROOT}/#"]) as sub:
        child = fault.start_child(broker.port)
        try:
            assert child.ask("publish 0 50")["synced"]
            assert child.ask("flush 10")["flushed"]
            fault.fill(child)
            # One commit per event: today's code logged one warning per refused commit.
            child.ask("publish 50 300 each", 120.0)
            during = child.ask("stats")
            assert during["refused"] > 0 and during["write_errors"] > 0, during
            assert during["health_ok"], "the agent's threads survive a full disk"
            fault.free(child)
            child.wait_stats(lambda s: s["available"], 20.0, "writes to work again")
            assert child.ask("publish 1000 50")["synced"]
            assert child.ask("flush 15")["flushed"], child.log()
            wait_until(lambda: 1049 in _seqs(sub.messages()), 10.0, "events after recovery")
            after = child.ask("stats")
        finally:
            code = child.stop()
    assert code == 0, child.log()
    seqs = _seqs(sub.messages())
    kept = [s for s in seqs if 50 <= s < 350]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    assert seqs[:50] == list(range(50)) and seqs[-50:] == list(range(1000, 1050))
    assert len(kept) + after["refused"] == 300, (len(kept), after)  # each one sent or counted
    warnings = [line for line in child.log().splitlines() if "outbox refused" in line]
    assert 1 <= len(warnings) <= 3, warnings
    assert "can be written again" in child.log() or "available again" in child.log()


@pytest.mark.timeout(120)
def test_disk_full_at_stop_still_says_stopped_and_exits_cleanly(
    broker: MosquittoBroker, fault: DiskFault
) -> None:
    child = fault.start_child(broker.port)
    try:
        assert child.ask("flush 10")["flushed"]
        fault.fill(child)
        child.ask("publish 0 20")
    finally:
        code = child.stop()
    assert code == 0, child.log()
    with Subscriber(broker.port, [f"{ROOT}/status", f"{ROOT}/available"]) as late:
        try:
            status = late.wait_for(lambda m: m.topic.endswith("/status"), 5.0)
            available = late.wait_for(lambda m: m.topic.endswith("/available"), 5.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{child.log()}") from None
    assert json.loads(status.payload)["state"] == "stopped", child.log()
    assert available.payload == b"stopped", child.log()
    fault.free(None) if fault.kind == "tmpfs" else None
    assert fault.outbox_path.exists() and not list(fault.directory.glob("*.corrupt-*"))


@pytest.mark.timeout(120)
def test_deletions_of_acknowledged_rows_survive_a_failed_commit(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE only: a tmpfs that is full still lets SQLite rewrite the WAL space it
    already holds, so small deletions would succeed there and prove nothing."""
    disk = DiskFault("rlimit", tmp_path)
    broker.stop()
    child = disk.start_child(broker.port)
    try:
        assert child.ask("publish 0 100")["synced"]
        disk.fill(child)
        broker.start()
        # Sent and acknowledged while no deletion can be committed:
        child.wait_stats(lambda s: s["acknowledged"] >= 101, 20.0, "acks of the backlog")
        child.wait_stats(lambda s: s["write_errors"] > 0, 10.0, "the deletions to fail")
        disk.free(child)
        child.wait_stats(lambda s: s["rows"] == 0, 20.0, "the deletions to be retried")
    finally:
        assert child.stop() == 0, child.log()
    with Subscriber(broker.port, [f"{ROOT}/#"]) as sub:
        again = disk.start_child(broker.port)
        try:
            assert again.ask("stats")["rows"] == 0
            assert again.ask("publish 500 1")["synced"]
            assert again.ask("flush 10")["flushed"]
            wait_until(lambda: 500 in _seqs(sub.messages()), 10.0, "the new event")
        finally:
            assert again.stop() == 0
    assert _seqs(sub.messages()) == [500], "acknowledged rows were sent again after a restart"
