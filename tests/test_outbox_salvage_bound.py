"""A damaged outbox is salvaged row by row; the outbox's files stay within outbox.max_bytes."""

from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path
from typing import Iterator

import pytest
from storage_faults import FAULT_KINDS, DiskFault

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.settings import OutboxSettings
from edge_agent.transport.outbox import Outbox
from edge_agent.transport.outbox_file import PAGE_BYTES, files_bytes


def _event(seq: int, pad: int = 0) -> OutgoingMessage:
    document = {"seq": seq, "replayed": False, "pad": "x" * pad}
    payload = json.dumps(document, separators=(",", ":")).encode()  # as EventEnvelope
    return OutgoingMessage("edge-agent/dev1/cam1/event", payload, 1, False, "event")


def test_damaged_outbox_salvages_every_readable_row_in_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = Outbox(OutboxSettings(path=path))
    outbox.open()
    for seq in range(525):
        outbox.append(_event(seq, pad=100))
    outbox.close()
    pages = path.stat().st_size // PAGE_BYTES
    rng = random.Random(7)
    with path.open("r+b") as handle:  # three pages in the middle overwritten, as a bad write
        for page in (pages // 4, pages // 2, 3 * pages // 4):
            handle.seek(page * PAGE_BYTES)
            handle.write(bytes(rng.randrange(256) for _ in range(PAGE_BYTES)))
    caplog.set_level(logging.ERROR)
    fresh = Outbox(OutboxSettings(path=path))
    fresh.open()
    try:
        report = fresh.salvage
        assert report is not None
        rows = fresh.fetch(0, 10_000)
        seqs = [json.loads(row.payload)["seq"] for row in rows]
        assert len(rows) == report.salvaged >= 400, report
        assert report.salvaged + report.unreadable >= 525, report  # each id read or counted
        assert report.unreadable > 0
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert all(json.loads(row.payload)["replayed"] is True for row in rows)
        assert report.moved_to.exists()
        assert report.moved_to.name.startswith("outbox.sqlite.corrupt-")
        assert fresh.append(_event(9999)) is not None  # the fresh outbox works
    finally:
        fresh.close()
    assert f"salvaged {report.salvaged} queued message(s)" in caplog.text
    assert f"{report.unreadable} could not be read" in caplog.text


def test_not_a_database_is_moved_aside_with_nothing_to_salvage(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    outbox = Outbox(OutboxSettings(path=path))
    outbox.open()
    try:
        assert outbox.salvage is not None and outbox.salvage.salvaged == 0
        assert outbox.salvage.moved_to.read_bytes().startswith(b"this is not")
    finally:
        outbox.close()


MAX_BYTES = 2 * 1024 * 1024


def _fill_past_the_bound(outbox: Outbox, path: Path) -> int:
    """~3 bound's worth of events in commit batches of 200, half of them acknowledged as they
    go (so the WAL sees inserts and deletes); returns the largest footprint seen."""
    largest = 0
    seq = 0
    for _ in range(60):
        batch = [(_event(seq + n, pad=300), 0.0) for n in range(200)]
        seq += 200
        result = outbox.commit(batch, [])
        assert result.ok
        acked = [i for i in result.ids[::2] if i is not None]
        assert outbox.delete(acked)
        largest = max(largest, files_bytes(path))
    return largest


def test_outbox_files_stay_within_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = Outbox(OutboxSettings(path=path, max_bytes=MAX_BYTES, max_age_s=1e9))
    outbox.open()
    try:
        largest = _fill_past_the_bound(outbox, path)
        counters = outbox.counters()
    finally:
        outbox.close()
    assert largest <= MAX_BYTES, f"database + WAL + index took {largest} bytes"
    assert counters.dropped > 0 and counters.refused == 0 and counters.write_errors == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[DiskFault]:
    disk = DiskFault(FAULT_KINDS[-1], tmp_path)  # the tmpfs where one can be mounted
    try:
        yield disk
    finally:
        disk.close()


def test_an_outbox_bounded_to_its_disk_never_fills_it(small_disk: DiskFault) -> None:
    """On a tmpfs (where mountable): bound = what the disk has, and no write ever fails.
    Without one, the same outbox under RLIMIT_FSIZE would prove only the per-file size, which
    test_outbox_files_stay_within_max_bytes measures directly."""
    path = small_disk.outbox_path
    outbox = Outbox(OutboxSettings(path=path, max_bytes=MAX_BYTES, max_age_s=1e9))
    outbox.open()
    try:
        _fill_past_the_bound(outbox, path)
        counters = outbox.counters()
    finally:
        outbox.close()
    assert counters.refused == 0 and counters.write_errors == 0, counters


def test_a_bound_larger_than_the_free_space_is_warned_about_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stat = os.statvfs(tmp_path)
    free = stat.f_bavail * stat.f_frsize
    outbox = Outbox(OutboxSettings(path=tmp_path / "outbox.sqlite", max_bytes=free + 2**30))
    outbox.open()
    outbox.close()
    assert "the disk may fill before the outbox does" in caplog.text
    caplog.clear()
    fitting = Outbox(OutboxSettings(path=tmp_path / "small.sqlite", max_bytes=2**20))
    fitting.open()
    fitting.close()
    assert "may fill" not in caplog.text
