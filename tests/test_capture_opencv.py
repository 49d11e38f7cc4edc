"""OpenCV capture on real MJPG files written into tmp_path; URL rules; preflight."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, List

import cv2
import numpy as np
import pytest

from edge_agent.capture.camera_worker import CameraWorker
from edge_agent.capture.preflight import preflight
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.capture.source import create_source
from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.settings import CameraSettings
from edge_agent.settings.camera_url import mask_url, parse_camera_url

W, H = 64, 48


def _camera(url: str, **extra: Any) -> CameraSettings:
    return CameraSettings(id="cam1", url=url, **extra)


def _write_blue_left_clip(path: Path, frames: int = 6) -> Path:
    """Left half pure blue in BGR, right half black: shows the channel order after decode."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (W, H))
    assert writer.isOpened()
    image = np.zeros((H, W, 3), np.uint8)
    image[:, : W // 2] = (255, 0, 0)
    for _ in range(frames):
        writer.write(image)
    writer.release()
    return path


def _wait_for(condition: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_synthetic_clip(tmp_path / "clip.avi", W, H, 10.0, 1.0)  # 10 frames


def test_file_frames_are_owned_bgr_uint8_of_the_right_size(tmp_path: Path) -> None:
    source = create_source(_camera(str(_write_blue_left_clip(tmp_path / "blue.avi"))))
    source.open()
    try:
        results = [source.read(1.0) for _ in range(7)]
    finally:
        source.close()
    frames = [r.pixels for r in results if r.status == "frame"]
    assert len(frames) == 6 and results[-1].status == "end"
    first = frames[0]
    assert first is not None and first.dtype == np.uint8 and first.shape == (H, W, 3)
    b, g, r = (int(v) for v in first[H // 2, W // 4])
    assert b > 200 and g < 40 and r < 40
    second = frames[1]
    assert second is not None and not np.shares_memory(first, second)


def test_file_url_and_requested_size(clip: Path) -> None:
    source = create_source(_camera(clip.as_uri(), width=32, height=24))
    source.open()
    try:
        result = source.read(1.0)
    finally:
        source.close()
        source.close()  # idempotent
    assert result.status == "frame" and result.pixels is not None
    assert result.pixels.shape == (24, 32, 3)


def test_open_missing_file_raises_input_not_found(tmp_path: Path) -> None:
    source = create_source(_camera(str(tmp_path / "nope.avi")))
    with pytest.raises(InputNotFoundError, match="nope.avi"):
        source.open()
    assert source.read(0.1).status == "error"


def test_loop_policy_keeps_producing_past_the_end(clip: Path) -> None:
    worker = CameraWorker(_camera(str(clip), on_eof="loop"))
    worker.start()
    try:
        assert _wait_for(lambda: worker.stats().frames_captured > 25)
        assert worker.stats().state == "streaming"
    finally:
        assert worker.stop(1.0)


def test_stop_policy_ends_after_the_last_frame(clip: Path) -> None:
    worker = CameraWorker(_camera(str(clip), on_eof="stop"))
    worker.start()
    try:
        assert _wait_for(lambda: worker.stats().state == "ended")
        stats = worker.stats()
        assert stats.frames_captured == 10 and stats.reconnects == 0
    finally:
        worker.stop(1.0)


def test_preflight_accepts_a_good_file_and_skips_live_sources(clip: Path) -> None:
    preflight(_camera(str(clip)))
    preflight(_camera("rtsp://10.255.255.1/never-contacted"))
    preflight(_camera("/dev/video99"))


def test_preflight_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.avi"
    with pytest.raises(InputNotFoundError) as caught:
        preflight(_camera(missing.as_uri()))
    assert str(missing) in caught.value.problem and "does not exist" in caught.value.problem
    assert caught.value.fix


def test_preflight_rejects_a_file_opencv_cannot_decode(tmp_path: Path) -> None:
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(InputNotFoundError, match="cannot be decoded"):
        preflight(_camera(str(junk)))


@pytest.mark.parametrize(
    ("url", "backend", "kind", "location"),
    [
        ("videos/a.avi", "opencv", "file", "videos/a.avi"),
        ("file:///srv/my%20clip.avi", "opencv", "file", "/srv/my clip.avi"),
        ("/dev/video0", "opencv", "v4l2", "/dev/video0"),
        ("v4l2:///dev/video2", "opencv", "v4l2", "/dev/video2"),
        ("rtsp://u:p@cam/s", "opencv", "network", "rtsp://u:p@cam/s"),
        ("rtsps://cam/s", "opencv", "network", "rtsps://cam/s"),
        ("http://cam/mjpg", "opencv", "network", "http://cam/mjpg"),
        ("HTTPS://cam/mjpg", "opencv", "network", "HTTPS://cam/mjpg"),
        ("csi://0", "jetson", "csi", "0"),
    ],
)
def test_url_classification(url: str, backend: str, kind: str, location: str) -> None:
    parsed = parse_camera_url(url, backend)
    assert (parsed.kind, parsed.location) == (kind, location)


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("ftp://host/a.avi", "opencv"),
        ("udp://@:5000", "opencv"),
        ("", "opencv"),
        ("0", "opencv"),
        ("http://cam/mjpg", "jetson"),
        ("v4l2://video0", "opencv"),
    ],
)
def test_unsupported_urls_are_config_errors(url: str, backend: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_camera_url(url, backend)
    assert "camera url" in caught.value.problem
    assert caught.value.fix


def test_unknown_scheme_error_names_the_url_and_lists_forms() -> None:
    with pytest.raises(ConfigError) as caught:
        create_source(_camera("ftp://user:hunter2@host/a.avi"))
    assert "ftp://user:***@host/a.avi" in caught.value.problem
    assert "hunter2" not in caught.value.user_message()
    for form in ("file://", "/dev/video", "rtsp://", "http(s)://", "csi://"):
        assert form in caught.value.fix


def test_csi_with_opencv_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        create_source(_camera("csi://0"))
    assert "csi://0" in caught.value.problem and "jetson" in caught.value.fix


def test_describe_masks_the_password_without_connecting() -> None:
    source = create_source(_camera("rtsp://admin:s3cret@cam.local:554/stream1"))
    assert source.describe() == "rtsp://admin:***@cam.local:554/stream1"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://cam/s", "rtsp://cam/s"),
        ("rtsp://user@cam/s", "rtsp://user@cam/s"),
        ("rtsp://u:p@ss@cam/s", "rtsp://u:***@cam/s"),
        ("http://cam/v?user=a&password=b", "http://cam/v?user=a&password=***"),
        ("/srv/clip.avi", "/srv/clip.avi"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_network_open_failure_is_input_not_found() -> None:
    # Port 9 on localhost refuses at once: no network traffic leaves the machine.
    camera = _camera("rtsp://127.0.0.1:9/none", read_timeout_s=1.0)
    source = create_source(camera)
    started = time.monotonic()
    with pytest.raises(InputNotFoundError, match=r"127\.0\.0\.1"):
        source.open()
    assert time.monotonic() - started < 5.0


def test_files_are_reported_as_files(clip: Path) -> None:
    kinds: List[bool] = [
        parse_camera_url(str(clip), "opencv").is_file,
        parse_camera_url("rtsp://x/y", "opencv").is_file,
    ]
    assert kinds == [True, False]
