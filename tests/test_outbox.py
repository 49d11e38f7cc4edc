"""Outbox on a real SQLite file: order, bounds, overflow policies, expiry, corruption, locking."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

import pytest

from edge_agent.errors import ConfigError
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.settings import OutboxSettings
from edge_agent.transport.delivery import mark_replayed
from edge_agent.transport.outbox import Outbox


def _msg(n: int, size: int = 10) -> OutgoingMessage:
    return OutgoingMessage("a/b", str(n).encode().ljust(size, b" "), 1, False, "event")


def _outbox(tmp_path: Path, clock: Any = None, **fields: Any) -> Outbox:
    settings = OutboxSettings(path=tmp_path / "state" / "outbox.sqlite", **fields)
    outbox = Outbox(settings, clock) if clock else Outbox(settings)
    outbox.open()
    return outbox


def _payload_numbers(outbox: Outbox) -> List[int]:
    return [int(row.payload) for row in outbox.fetch(0, 10_000)]


def test_rows_come_back_in_order_and_survive_reopen(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    ids = [outbox.append(_msg(n)) for n in range(5)]
    assert ids == sorted(ids)
    outbox.delete([ids[0]])
    outbox.close()
    again = _outbox(tmp_path)
    try:
        assert _payload_numbers(again) == [1, 2, 3, 4]
        assert again.counters().depth == 4
        assert (tmp_path / "state").stat().st_mode & 0o077 == 0
    finally:
        again.close()


def test_drop_oldest_counts_what_it_dropped(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, max_rows=10)
    for n in range(25):
        assert outbox.append(_msg(n)) is not None
    counters = outbox.counters()
    assert counters.depth == 10 and counters.dropped == 15
    assert _payload_numbers(outbox) == list(range(15, 25))
    outbox.close()


def test_refuse_new_keeps_the_backlog(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, max_rows=10, overflow="refuse_new")
    results = [outbox.append(_msg(n)) for n in range(12)]
    assert results[10:] == [None, None]
    assert outbox.counters().refused == 2
    assert _payload_numbers(outbox) == list(range(10))
    outbox.close()


def test_byte_limit_applies(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, max_bytes=1024 * 1024)
    for n in range(10):
        outbox.append(_msg(n, size=150_000))
    counters = outbox.counters()
    assert counters.bytes <= 1024 * 1024 and counters.dropped == 5
    outbox.close()


def test_old_rows_expire_and_are_counted(tmp_path: Path) -> None:
    now = [1000.0]
    outbox = _outbox(tmp_path, clock=lambda: now[0], max_age_s=5.0)
    outbox.append(_msg(1))
    now[0] += 10.0
    outbox.append(_msg(2))
    assert outbox.counters().oldest_age_s == pytest.approx(10.0)
    assert outbox.expire() == 1
    assert _payload_numbers(outbox) == [2]
    assert outbox.counters().expired == 1
    outbox.close()


def test_rejected_rows_are_kept_but_not_resent(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    first = outbox.append(_msg(1))
    outbox.append(_msg(2))
    assert first is not None
    outbox.reject(first, 0x87)
    assert _payload_numbers(outbox) == [2]
    counters = outbox.counters()
    assert counters.rows == 2 and counters.depth == 1 and counters.rejected == 1
    outbox.close()


def test_corrupt_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state" / "outbox.sqlite"
    path.parent.mkdir()
    path.write_bytes(b"this is not a database" * 100)
    other = tmp_path / "state" / "keep.txt"
    other.write_text("untouched")
    outbox = _outbox(tmp_path)
    try:
        assert outbox.append(_msg(1)) is not None
    finally:
        outbox.close()
    aside = list(path.parent.glob("outbox.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    assert other.read_text() == "untouched"
    assert "damaged" in caplog.text and "moved to" in caplog.text


def test_second_owner_is_refused(tmp_path: Path) -> None:
    first = _outbox(tmp_path)
    try:
        with pytest.raises(ConfigError, match="in use by another"):
            _outbox(tmp_path)
    finally:
        first.close()


def test_unwritable_directory_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    outbox = Outbox(OutboxSettings(path=blocker / "sub" / "outbox.sqlite"))
    with pytest.raises(ConfigError, match=r"outbox\.path"):
        outbox.open()


def test_mark_replayed_only_touches_documents_with_the_field() -> None:
    assert mark_replayed(b'{"a":1,"replayed":false}') == b'{"a":1,"replayed":true}'
    assert mark_replayed(b"online") == b"online"
    assert mark_replayed(b'{"a":1}') == b'{"a":1}'


def test_drop_oldest_losses_are_logged_once_per_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = _outbox(tmp_path, max_rows=10)
    try:
        for n in range(30):
            outbox.append(_msg(n))
    finally:
        outbox.close()
    lines = [r.getMessage() for r in caplog.records if "oldest messages dropped" in r.getMessage()]
    # the first drop at once, the other 19 summed and flushed at close: two lines, not 20
    assert len(lines) == 2, lines
    assert "1 message(s)" in lines[0] and "19 message(s)" in lines[1]


def test_loss_log_sums_within_its_interval(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from edge_agent.transport.loss_log import LossLog

    now = [0.0]
    log = LossLog(logging.getLogger("loss-test"), interval_s=30.0, clock=lambda: now[0])
    for _ in range(675):
        log.report("refused", 1, "disk full")
        now[0] += 0.05
    now[0] = 40.0
    log.tick()  # not due yet: the second summary was at 30 s
    now[0] = 61.0
    log.tick()
    lines = [r.getMessage() for r in caplog.records if r.name == "loss-test"]
    assert len(lines) == 3, lines  # 675 refusals: three lines, not 675
    assert lines[0] == "refused: 1 message(s): disk full"
    assert lines[1] == "refused: 600 message(s) in the last 30 s: disk full"
    assert lines[2] == "refused: 74 message(s) in the last 31 s: disk full"
