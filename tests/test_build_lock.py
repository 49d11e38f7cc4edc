"""One engine build at a time per engine folder: a second waiter blocks, a cancel frees it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import List

import pytest

from edge_agent.inference.build_lock import BuildCancelled, exclusive_build


def test_second_build_waits_for_the_first(tmp_path: Path) -> None:
    order: List[str] = []
    first_in = threading.Event()
    release = threading.Event()
    said: List[str] = []

    def first() -> None:
        with exclusive_build(tmp_path, threading.Event(), said.append):
            order.append("first in")
            first_in.set()
            release.wait(5)
            order.append("first out")

    def second() -> None:
        first_in.wait(5)
        with exclusive_build(tmp_path, threading.Event(), said.append):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(5)
    time.sleep(0.3)  # the second is waiting now
    assert order == ["first in"]
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first in", "first out", "second in"]
    assert said == ["another engine build is running on this device; waiting for it"]


def test_cancel_while_waiting(tmp_path: Path) -> None:
    holding = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with exclusive_build(tmp_path, threading.Event(), lambda _: None):
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(5)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(BuildCancelled), exclusive_build(tmp_path, cancel, lambda _: None):
        pass
    assert time.monotonic() - started < 2.0
    release.set()
    thread.join(5)
    with exclusive_build(tmp_path, threading.Event(), lambda _: None):
        pass  # free again
