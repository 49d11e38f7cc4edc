"""LatestFrameSlot: newest frame wins, overwritten frames are counted, waiters wake."""

from __future__ import annotations

import threading
import time
from typing import List

import numpy as np

from edge_agent.capture.latest_slot import LatestFrameSlot
from edge_agent.frames import Frame


def _frame(seq: int) -> Frame:
    return Frame("cam", seq, time.time(), time.monotonic(), np.zeros((2, 2, 3), np.uint8))


def test_take_returns_none_after_timeout_when_empty() -> None:
    slot = LatestFrameSlot()
    started = time.monotonic()
    assert slot.take(0.05) is None
    assert 0.04 <= time.monotonic() - started < 1.0


def test_put_then_take_hands_over_once() -> None:
    slot = LatestFrameSlot()
    slot.put(_frame(1))
    taken = slot.take(0.0)
    assert taken is not None and taken.seq == 1
    assert slot.take(0.0) is None
    assert slot.dropped == 0


def test_overwrite_keeps_newest_and_counts_drop() -> None:
    slot = LatestFrameSlot()
    for seq in (1, 2, 3):
        slot.put(_frame(seq))
    taken = slot.take(0.0)
    assert taken is not None and taken.seq == 3
    assert slot.dropped == 2


def test_take_blocks_until_a_put_from_another_thread() -> None:
    slot = LatestFrameSlot()
    timer = threading.Timer(0.05, slot.put, args=(_frame(7),))
    timer.start()
    taken = slot.take(2.0)
    timer.join()
    assert taken is not None and taken.seq == 7


def test_close_wakes_waiters_and_drops_later_puts() -> None:
    slot = LatestFrameSlot()
    results: List[object] = []
    waiter = threading.Thread(target=lambda: results.append(slot.take(5.0)))
    waiter.start()
    time.sleep(0.05)
    started = time.monotonic()
    slot.close()
    waiter.join(1.0)
    assert not waiter.is_alive() and time.monotonic() - started < 0.5
    assert results == [None]
    slot.put(_frame(1))
    assert slot.closed and slot.dropped == 1 and slot.take(0.0) is None


def test_concurrent_producer_every_frame_is_taken_or_counted() -> None:
    slot = LatestFrameSlot()
    total = 2000
    taken: List[int] = []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set():
            frame = slot.take(0.01)
            if frame is not None:
                taken.append(frame.seq)

    consumer = threading.Thread(target=consume)
    consumer.start()
    for seq in range(1, total + 1):
        slot.put(_frame(seq))
    done.set()
    consumer.join(2.0)
    last = slot.take(0.0)
    if last is not None:
        taken.append(last.seq)
    assert taken == sorted(taken) and len(set(taken)) == len(taken)
    assert len(taken) + slot.dropped == total


def test_two_readers_each_get_the_newest_frame_once() -> None:
    slot = LatestFrameSlot()
    fast, slow = slot.reader("semseg"), slot.reader("tracking")
    slot.put(_frame(1))
    first = fast.take(0.0)
    assert first is not None and first.seq == 1
    assert fast.take(0.0) is None, "a reader never gets the same frame twice"
    slot.put(_frame(2))
    slot.put(_frame(3))
    seen = slow.take(0.0)
    assert seen is not None and seen.seq == 3, "the slow reader skips to the newest"
    again = fast.take(0.0)
    assert again is not None and again.seq == 3
    # frame 1 went to 'semseg'; frame 2 went to nobody: the only one dropped overall
    assert slot.dropped == 1
    assert slot.dropped_by("semseg") == 1 and slot.dropped_by("tracking") == 2


def test_a_waiting_reader_is_woken_while_another_holds_the_frame() -> None:
    slot = LatestFrameSlot()
    first, second = slot.reader("a"), slot.reader("b")
    slot.put(_frame(1))
    assert first.take(0.0) is not None
    timer = threading.Timer(0.05, slot.put, args=(_frame(2),))
    timer.start()
    taken = second.take(2.0)
    assert taken is not None and taken.seq == 1, "b has not seen frame 1 yet"
    got = first.take(2.0)
    timer.join()
    assert got is not None and got.seq == 2
