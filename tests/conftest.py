"""Shared fixtures: a private mosquitto per test, and a guard against leaked threads.

Why the thread guard: a test that leaves a non-daemon thread (or a paho network loop) running
means some component's stop() does not release what start() acquired; in the daemon that is
a shutdown that hangs or a connection that outlives its owner.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Iterator, List

import pytest
from mosquitto_broker import MosquittoBroker

_THREAD_GRACE_S = 2.0


def _suspect_threads(before: List[threading.Thread]) -> List[threading.Thread]:
    return [
        thread
        for thread in threading.enumerate()
        if thread not in before
        and thread.is_alive()
        and (not thread.daemon or thread.name.startswith("paho-mqtt-client-"))
    ]


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail the test if it leaves non-daemon threads or paho loops running."""
    before = threading.enumerate()
    yield
    deadline = time.monotonic() + _THREAD_GRACE_S
    leaked = _suspect_threads(before)
    while leaked and time.monotonic() < deadline:
        time.sleep(0.05)
        leaked = _suspect_threads(before)
    if leaked:
        pytest.fail(f"test left threads running: {[thread.name for thread in leaked]}")


@pytest.fixture(autouse=True)
def private_outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every agent a test starts (in-process or as a child) gets its own outbox file, never
    the default /var/lib/edge-agent/outbox.sqlite that concurrent tests would share."""
    monkeypatch.setenv("EDGE_AGENT_OUTBOX__PATH", str(tmp_path / "agent-outbox.sqlite"))
    monkeypatch.setenv("EDGE_AGENT_FLEET__LEDGER_PATH", str(tmp_path / "fleet-ledger.sqlite"))


@pytest.fixture(autouse=True)
def restore_root_logging() -> Iterator[None]:
    """Put the root logger back after each test.

    `edge-agent run`/`demo` configure logging for the whole process with the stderr of the
    moment, which under pytest is a capture stream closed after the test; left in place, later
    tests would log into a closed file.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A started mosquitto on a free port, stopped after the test whatever happens."""
    instance = MosquittoBroker(tmp_path)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
