"""sd_notify protocol and the watchdog's rules, against a real datagram socket."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator, List

import pytest
from notify_socket import NotifyListener

from edge_agent.pipeline.status import CameraLine, StatusSnapshot
from edge_agent.service.journal import StructuredJournalHandler, journal_fields
from edge_agent.service.lifecycle import ServiceLifecycle
from edge_agent.service.notify import (
    SocketNotifier,
    notifier_from_environ,
    one_line,
    socket_address,
    watchdog_interval_s,
)
from edge_agent.service.watchdog import (
    CameraProgress,
    StallDetector,
    Watchdog,
    stall_threshold_s,
)
from edge_agent.settings import ServiceSettings


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[NotifyListener]:
    instance = NotifyListener(tmp_path)
    yield instance
    instance.close()


def test_socket_notifier_sends_one_datagram_per_message(listener: NotifyListener) -> None:
    notifier = SocketNotifier(listener.address)
    assert notifier.send("READY=1\nSTATUS=all good")
    assert notifier.send("WATCHDOG=1")
    notifier.close()
    first = listener.wait_for(lambda m: m.has("READY=1"), 2.0)
    assert first.status() == "all good"
    listener.wait_for(lambda m: m.has("WATCHDOG=1"), 2.0)


def test_abstract_namespace_socket() -> None:
    listener = NotifyListener(abstract=True)
    try:
        assert listener.address.startswith("@")
        assert socket_address(listener.address).startswith("\0")
        notifier = notifier_from_environ({"NOTIFY_SOCKET": listener.address}, False)
        assert notifier is not None
        assert notifier.send("STOPPING=1")
        notifier.close()
        listener.wait_for(lambda m: m.has("STOPPING=1"), 2.0)
    finally:
        listener.close()


def test_no_socket_means_no_notifier() -> None:
    assert notifier_from_environ({}) is None
    assert notifier_from_environ({"NOTIFY_SOCKET": "relative/path"}, False) is None


def test_send_to_a_vanished_socket_reports_false(tmp_path: Path) -> None:
    notifier = SocketNotifier(str(tmp_path / "nobody-listens.sock"))
    assert notifier.send("READY=1") is False
    notifier.close()


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}, 42) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "42"}, 42) == 1.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "7"}, 42) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}, 42) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "soon"}, 42) is None
    assert watchdog_interval_s({}, 42) is None


def test_status_is_one_line() -> None:
    assert one_line("a\nb\n\n c ") == "a / b / c"
    assert len(one_line("x" * 2000)) == 512


def test_stall_threshold_never_undercuts_capture_recovery() -> None:
    assert stall_threshold_s(30.0, 10.0, 2.0) == 30.0
    assert stall_threshold_s(1.0, 10.0, 2.0) == 12.0  # read timeout + margin
    assert stall_threshold_s(1.0, 0.5, 0.1) == 30.0  # three inference periods


def cam(camera_id: str, state: str, last: float | None, stall_s: float = 5.0) -> CameraProgress:
    return CameraProgress(camera_id, state, last, stall_s)


def test_stall_rules() -> None:
    detector = StallDetector(epoch_s=100.0)
    # Nothing processed yet: measured from the epoch.
    assert detector.stalled([cam("a", "starting", None)], 104.0) == []
    assert detector.stalled([cam("a", "starting", None)], 106.0) == ["a"]
    # A camera being retried or finished never holds the watchdog back.
    assert detector.stalled([cam("a", "reconnecting", None)], 500.0) == []
    assert detector.stalled([cam("a", "ended", 101.0)], 500.0) == []
    # Every streaming camera must progress.
    cams = [cam("a", "streaming", 109.0), cam("b", "streaming", 103.0)]
    assert detector.stalled(cams, 110.0) == ["b"]
    detector.restart_epoch(108.0)  # after a reload the new pipeline gets its grace period
    assert detector.stalled(cams, 110.0) == []


class _RecordingNotifier:
    """Collects messages in memory (the socket path is tested above)."""

    def __init__(self) -> None:
        self.sent: List[str] = []

    def send(self, message: str) -> bool:
        self.sent.append(message)
        return True

    def close(self) -> None:
        pass


def test_watchdog_pings_at_interval_only_while_healthy() -> None:
    notifier = _RecordingNotifier()
    watchdog = Watchdog(notifier, 1.0, StallDetector(0.0))
    healthy = [cam("a", "streaming", 0.0)]
    times = [0.0, 0.5, 1.0, 1.5, 2.0]
    sent = [watchdog.tick([cam("a", "streaming", t)], t) for t in times]
    assert sent == [True, False, True, False, True]
    # Frames stop: no ping once the camera exceeds its stall time...
    assert watchdog.tick(healthy, 6.0) is False
    assert watchdog.stalled == ["a"]
    assert watchdog.tick(healthy, 9.0) is False
    # ...and pings resume as soon as frames are processed again.
    assert watchdog.tick([cam("a", "streaming", 9.5)], 9.6) is True
    assert watchdog.stalled == []
    assert notifier.sent.count("WATCHDOG=1") == 4


class _FakeAgent:
    """Stands in for the agent's read-only surface (progress and snapshot)."""

    def __init__(self) -> None:
        self.progress = [cam("a", "starting", None)]

    def camera_progress(self) -> List[CameraProgress]:
        return self.progress

    def healthy(self) -> bool:
        return True

    def snapshot(self) -> StatusSnapshot:
        line = CameraLine("a", self.progress[0].state, 9.5, 0, 0)
        return StatusSnapshot(1.0, [line], 12.0, {}, 3, 3, 0, "up")


def test_link_waits_for_cameras_then_ready(listener: NotifyListener) -> None:
    link = ServiceLifecycle(SocketNotifier(listener.address), 0.5,
                            ServiceSettings(ready_timeout_s=5))
    agent = _FakeAgent()
    link.started(0.0)
    link.tick(agent, 1.0)
    assert not link.ready  # camera still opening
    agent.progress = [cam("a", "reconnecting", None)]  # failed to open: start anyway
    link.tick(agent, 1.1)
    assert link.ready
    ready = listener.wait_for(lambda m: m.has("READY=1"), 2.0)
    assert ready.status() is not None and "a reconnecting" in (ready.status() or "")
    link.set_config_error("cameras[0].url: bad")
    link.reloading()
    link.reloaded(agent, 2.0, pipeline_rebuilt=False)
    link.stopping()
    link.close()
    listener.wait_for(lambda m: m.has("STOPPING=1"), 2.0)
    fields = [f for m in listener.messages for f in m.fields if f.endswith("=1")]
    fields = [f for f in fields if f != "WATCHDOG=1"]
    assert fields == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"]
    reloaded = [m for m in listener.messages if m.has("READY=1")][-1]
    assert "reload failed, old config kept: cameras[0].url: bad" in (reloaded.status() or "")


def test_link_sends_ready_after_timeout_even_if_a_camera_hangs(listener: NotifyListener) -> None:
    link = ServiceLifecycle(SocketNotifier(listener.address), None,
                            ServiceSettings(ready_timeout_s=2))
    agent = _FakeAgent()
    link.started(0.0)
    link.tick(agent, 1.9)
    assert not link.ready
    link.tick(agent, 2.1)
    assert link.ready
    link.close()


def test_inactive_link_is_a_no_op() -> None:
    link = ServiceLifecycle.from_environ(ServiceSettings(), environ={})
    assert not link.active
    link.started(0.0)
    link.tick(_FakeAgent(), 100.0)
    assert not link.ready
    link.stopping()
    link.close()


def test_journal_fields_carry_camera_engine_event() -> None:
    record = logging.LogRecord("edge_agent.x", logging.WARNING, "f.py", 7, "lost %s", ("a",), None)
    record.camera = "lobby"
    record.engine = "peoplesemsegnet_shuffleseg"
    record.event_id = "e-1"
    fields = journal_fields(record)
    assert fields["CAMERA"] == "lobby"
    assert fields["ENGINE"] == "peoplesemsegnet_shuffleseg"
    assert fields["EVENT_ID"] == "e-1"
    assert fields["PRIORITY"] == "4"
    sent = []
    handler = StructuredJournalHandler(lambda message, **kw: sent.append((message, kw)))
    handler.emit(record)
    assert sent[0][0] == "lost a" and sent[0][1]["CAMERA"] == "lobby"
