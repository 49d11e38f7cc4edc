"""CameraWorker on real files: drops counted, prompt stop, reconnect, pacing, config errors."""

from __future__ import annotations

import random
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List

import cv2
import numpy as np
import pytest

from edge_agent.capture.camera_worker import CameraWorker
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.frames import Frame
from edge_agent.settings import CameraSettings


def _camera(url: str, **extra: Any) -> CameraSettings:
    return CameraSettings(id="door", url=url, **extra)


def _wait_for(condition: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_synthetic_clip(tmp_path / "clip.avi", 64, 48, 10.0, 1.0)


class StallingMjpegServer:
    """A real HTTP MJPEG server on 127.0.0.1 that sends a few frames, then goes silent.

    The socket stays open, so only a read timeout can notice: the "camera froze" case.
    """

    def __init__(self, frames_per_connection: int = 20) -> None:
        self._frames = frames_per_connection
        self._jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))[1].tobytes()
        self._listener = socket.socket()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="mjpeg-test-server")
        self._connections: List[socket.socket] = []
        self.port = 0

    def start(self) -> None:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        for connection in self._connections:
            connection.close()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except socket.timeout:
                continue
            self._connections.append(connection)
            try:
                self._answer(connection)
            except OSError:
                # The camera worker gave up on this connection (a reconnect) while we were
                # still sending; under load that is expected, and the next accept() goes on.
                continue

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(1.0)
        connection.recv(4096)  # the GET request
        connection.sendall(
            b"HTTP/1.0 200 OK\r\n"
            b"Content-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n"
        )
        part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
        for _ in range(self._frames):
            connection.sendall(part % len(self._jpeg) + self._jpeg + b"\r\n")


@pytest.fixture
def stalling_server() -> Iterator[StallingMjpegServer]:
    server = StallingMjpegServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_frames_carry_camera_id_seq_and_timestamps(clip: Path) -> None:
    worker = CameraWorker(_camera(str(clip), max_fps=50.0))
    worker.start()
    taken: List[Frame] = []
    try:
        while len(taken) < 5:
            frame = worker.slot.take(2.0)
            assert frame is not None
            taken.append(frame)
    finally:
        assert worker.stop(1.0)
    assert all(f.camera_id == "door" and f.size_wh == (64, 48) for f in taken)
    seqs = [f.seq for f in taken]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5 and seqs[0] >= 1
    assert abs(taken[-1].capture_ts - time.time()) < 5.0
    assert taken[-1].monotonic_ts <= time.monotonic()


def test_drops_are_counted_when_nobody_takes(clip: Path) -> None:
    worker = CameraWorker(_camera(str(clip)))
    worker.start()
    try:
        assert _wait_for(lambda: worker.stats().frames_captured >= 30)
    finally:
        assert worker.stop(1.0)
    stats = worker.stats()
    # Everything but the frame still sitting in the slot was overwritten untaken.
    assert stats.frames_dropped == stats.frames_captured - 1
    assert stats.state == "stopped"


def test_stop_is_prompt_while_pacing_frames(clip: Path) -> None:
    worker = CameraWorker(_camera(str(clip), max_fps=1.0))
    worker.start()
    assert _wait_for(lambda: worker.stats().frames_captured >= 1)
    names = [t.name for t in threading.enumerate()]
    assert "capture-door" in names
    started = time.monotonic()
    assert worker.stop(1.0)
    assert time.monotonic() - started < 1.0
    assert "capture-door" not in [t.name for t in threading.enumerate()]


def test_stop_is_prompt_during_a_long_backoff(tmp_path: Path) -> None:
    camera = _camera(str(tmp_path / "absent.avi"), reconnect_initial_s=30.0, reconnect_max_s=60.0)
    worker = CameraWorker(camera, rng=random.Random(0))
    worker.start()
    assert _wait_for(lambda: worker.stats().state == "reconnecting")
    started = time.monotonic()
    assert worker.stop(1.0)
    assert time.monotonic() - started < 1.0
    assert worker.slot.take(0.0) is None


def test_missing_file_is_retried_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "late.avi"
    camera = _camera(str(path), reconnect_initial_s=0.02, reconnect_max_s=0.05)
    worker = CameraWorker(camera, rng=random.Random(1))
    worker.start()
    try:
        assert _wait_for(lambda: worker.stats().reconnects >= 2)
        stats = worker.stats()
        assert stats.state == "reconnecting" and "late.avi" in stats.last_error
        assert stats.frames_captured == 0 and stats.last_frame_age_s is None
        write_synthetic_clip(path, 64, 48, 10.0, 1.0)  # appears atomically (rename)
        assert _wait_for(lambda: worker.stats().state == "streaming")
        assert worker.slot.take(2.0) is not None
    finally:
        assert worker.stop(1.0)
    assert worker.stats().reconnects >= 2


def test_max_fps_paces_files_and_fps_is_measured(clip: Path) -> None:
    worker = CameraWorker(_camera(str(clip), max_fps=20.0))
    worker.start()
    try:
        time.sleep(1.0)
        stats = worker.stats()
    finally:
        assert worker.stop(1.0)
    assert 12 <= stats.frames_captured <= 24
    assert 12.0 <= stats.fps <= 24.0
    assert stats.last_frame_age_s is not None and stats.last_frame_age_s < 0.5
    assert stats.frames_rate_limited == 0  # files are paced by waiting, not by skipping


def test_config_error_ends_the_camera_without_retrying() -> None:
    worker = CameraWorker(_camera("ftp://host/a.avi", reconnect_initial_s=0.01))
    worker.start()
    try:
        assert _wait_for(lambda: worker.stats().state == "ended")
        stats = worker.stats()
        assert "ftp://" in stats.last_error and stats.reconnects == 0
    finally:
        assert worker.stop(1.0)


def test_worker_starts_once(clip: Path) -> None:
    worker = CameraWorker(_camera(str(clip), on_eof="stop"))
    worker.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            worker.start()
    finally:
        assert worker.stop(1.0)


def test_frozen_network_stream_is_reopened(stalling_server: StallingMjpegServer) -> None:
    url = f"http://127.0.0.1:{stalling_server.port}/video"
    camera = _camera(url, read_timeout_s=0.5, reconnect_initial_s=0.01, reconnect_max_s=0.02)
    worker = CameraWorker(camera, rng=random.Random(2))
    worker.start()
    try:
        assert _wait_for(lambda: worker.stats().reconnects >= 2, timeout_s=4.0)
        stats = worker.stats()
    finally:
        assert worker.stop(1.0)
    assert stats.frames_captured >= 2 and url in stats.last_error


def test_live_frames_beyond_max_fps_are_skipped_not_queued(
    stalling_server: StallingMjpegServer,
) -> None:
    url = f"http://127.0.0.1:{stalling_server.port}/video"
    camera = _camera(url, max_fps=1.0, read_timeout_s=0.5, reconnect_initial_s=0.01)
    worker = CameraWorker(camera)
    worker.start()
    try:
        # The server bursts 20 frames at once: one is published, the rest arrive too early.
        assert _wait_for(lambda: worker.stats().frames_rate_limited >= 5)
        stats = worker.stats()
    finally:
        assert worker.stop(1.0)  # read_timeout_s < 1 s bounds the blocked FFmpeg read
    assert stats.frames_captured == 1
