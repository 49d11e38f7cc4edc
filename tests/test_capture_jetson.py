"""JetsonSource against a FAKE jetson_utils module (the hardware boundary, no Jetson here).

FAKE: `_FakeJetsonUtils` below stands in for the jetson_utils C extension. It mimics only the
behaviour documented in dusty-nv/jetson-utils python/bindings/PyVideo.cpp and PyNumpy.cpp:
videoSource(uri, argv=None, positionArg=-1, options=None), Open(), Close(), IsStreaming(),
Capture(format='rgb8', timeout=ms) returning None on timeout and raising a bare Exception on
EOS/error, cudaToNumpy returning a *view* of a ring buffer that later captures overwrite.
It is injected through sys.modules; nothing else in these tests is faked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np
import pytest

from edge_agent.capture.camera_worker import CameraWorker
from edge_agent.capture.source import create_source
from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.settings import CameraSettings

# A script step: an RGB frame, None (timeout), or "eos" / "error" (Capture raises).
Step = Union[np.ndarray, None, str]


class _FakeCudaImage:
    """FAKE cudaImage: a handle on one ring-buffer slot."""

    def __init__(self, buffer: np.ndarray) -> None:
        self.buffer = buffer
        self.height, self.width, self.channels = buffer.shape


class _FakeJetsonUtils(types.ModuleType):
    """FAKE jetson_utils module; records every call the code under test makes."""

    def __init__(self, script: List[Step], accept_options: bool = True) -> None:
        super().__init__("jetson_utils")
        self.script = list(script)
        self.accept_options = accept_options
        self.calls: List[Any] = []
        self.ring = np.zeros((2, 4, 6, 3), np.uint8)  # 2 slots of 4x6 RGB, reused
        self.fail_create = False
        fake = self

        class videoSource:  # noqa: N801 - the real class name
            def __init__(
                self,
                uri: Optional[str] = None,
                argv: Optional[List[str]] = None,
                positionArg: int = -1,  # noqa: N803 - the real keyword
                **kwargs: Any,
            ) -> None:
                if "options" in kwargs and not fake.accept_options:
                    raise TypeError("'options' is an invalid keyword argument")
                fake.calls.append(("videoSource", uri, argv, kwargs.get("options")))
                if fake.fail_create:
                    raise Exception("jetson.utils -- failed to create videoSource device")
                self.streaming = False
                self.captures = 0

            def Open(self) -> None:  # noqa: N802
                fake.calls.append(("Open",))
                self.streaming = True

            def Close(self) -> None:  # noqa: N802
                fake.calls.append(("Close",))
                self.streaming = False

            def IsStreaming(self) -> bool:  # noqa: N802
                return self.streaming

            def Capture(self, format: str = "rgb8", timeout: int = 1000) -> Any:  # noqa: A002, N802
                fake.calls.append(("Capture", format, timeout))
                step = fake.script.pop(0) if fake.script else None
                if isinstance(step, str):
                    if step == "eos":
                        self.streaming = False
                    raise Exception("jetson.utils -- videoSource failed to capture image")
                if step is None:
                    return None
                slot = fake.ring[self.captures % len(fake.ring)]
                slot[...] = step
                self.captures += 1
                return _FakeCudaImage(slot)

        self.videoSource = videoSource

    def cudaDeviceSynchronize(self) -> None:  # noqa: N802
        self.calls.append(("cudaDeviceSynchronize",))

    def cudaToNumpy(self, image: _FakeCudaImage) -> np.ndarray:  # noqa: N802
        self.calls.append(("cudaToNumpy",))
        return image.buffer  # a view, like the real zero-copy mapping


def _rgb(r: int, g: int, b: int) -> np.ndarray:
    image = np.zeros((4, 6, 3), np.uint8)
    image[...] = (r, g, b)
    return image


def _install(monkeypatch: pytest.MonkeyPatch, script: List[Step], **kw: Any) -> _FakeJetsonUtils:
    fake = _FakeJetsonUtils(script, **kw)
    monkeypatch.setitem(sys.modules, "jetson_utils", fake)
    return fake


def _camera(url: str, **extra: Any) -> CameraSettings:
    return CameraSettings(id="lobby", url=url, backend="jetson", **extra)


def test_opens_with_documented_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _install(monkeypatch, [])
    clip = tmp_path / "clip.mp4"
    camera = _camera(str(clip), width=640, height=360, max_fps=5.0, on_eof="loop")
    source = create_source(camera)
    source.open()
    source.read(0.25)
    source.close()
    assert fake.calls[0] == (
        "videoSource",
        "file://" + str(clip),
        None,
        {"width": 640, "height": 360, "framerate": 5.0, "loop": -1},
    )
    assert fake.calls[1] == ("Open",)
    assert fake.calls[2] == ("Capture", "rgb8", 250)
    assert fake.calls[-1] == ("Close",)


@pytest.mark.parametrize(
    ("url", "uri", "options"),
    [
        ("csi://0", "csi://0", {}),
        ("rtsp://u:p@cam/s", "rtsp://u:p@cam/s", {"framerate": 5.0}),
        ("/srv/a.mkv", "file:///srv/a.mkv", {"framerate": 5.0, "loop": 0}),
    ],
)
def test_uri_and_options_per_kind(
    monkeypatch: pytest.MonkeyPatch, url: str, uri: str, options: Dict[str, Any]
) -> None:
    fake = _install(monkeypatch, [])
    source = create_source(_camera(url, max_fps=5.0, on_eof="stop"))
    source.open()
    source.close()
    assert fake.calls[0] == ("videoSource", uri, None, options)


def test_old_builds_without_options_get_argv_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _install(monkeypatch, [], accept_options=False)
    source = create_source(_camera("/srv/a.mp4", width=320, height=240, on_eof="loop"))
    source.open()
    source.close()
    assert fake.calls[0] == (
        "videoSource",
        "file:///srv/a.mp4",
        ["--input-width=320", "--input-height=240", "--input-loop=-1"],
        None,
    )


def test_frame_is_an_owned_bgr_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _install(monkeypatch, [_rgb(255, 0, 0), _rgb(0, 255, 0), _rgb(0, 0, 255)])
    source = create_source(_camera("csi://0"))
    source.open()
    first = source.read(1.0)
    source.read(1.0)
    source.read(1.0)  # reuses ring slot 0, which the first image pointed at
    source.close()
    assert first.status == "frame" and first.pixels is not None
    assert first.pixels.shape == (4, 6, 3) and first.pixels.dtype == np.uint8
    assert tuple(int(v) for v in first.pixels[0, 0]) == (0, 0, 255)  # red, as BGR
    assert not np.shares_memory(first.pixels, fake.ring)
    names = [call[0] for call in fake.calls]
    assert names.index("cudaDeviceSynchronize") < names.index("cudaToNumpy")


def test_none_is_timeout_eos_is_end_other_failures_are_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _install(monkeypatch, [None, "error", "eos"])
    source = create_source(_camera("/srv/a.mp4", on_eof="stop"))
    source.open()
    statuses = [source.read(0.1) for _ in range(3)]
    source.close()
    assert [r.status for r in statuses] == ["timeout", "error", "end"]
    assert "failed to capture" in statuses[1].message


def test_creation_failure_is_input_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _install(monkeypatch, [])
    fake.fail_create = True
    source = create_source(_camera("rtsp://admin:pw@cam/s"))
    with pytest.raises(InputNotFoundError) as caught:
        source.open()
    assert "rtsp://admin:***@cam/s" in caught.value.problem
    assert "pw@" not in caught.value.problem


def test_missing_jetson_utils_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jetson_utils", None)  # makes `import` raise ImportError
    source = create_source(_camera("csi://0"))
    with pytest.raises(ConfigError) as caught:
        source.open()
    assert "jetson-utils" in caught.value.problem and 'backend = "opencv"' in caught.value.fix


def test_worker_reconnects_after_a_stall(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _install(monkeypatch, [_rgb(1, 2, 3)])  # one frame, then timeouts forever
    camera = _camera(
        "rtsp://cam/s", read_timeout_s=0.2, reconnect_initial_s=0.01, reconnect_max_s=0.02
    )
    worker = CameraWorker(camera)
    worker.start()
    try:
        deadline = time.monotonic() + 3.0
        while worker.stats().reconnects < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        stats = worker.stats()
    finally:
        assert worker.stop(1.0)
    assert stats.reconnects >= 1 and stats.frames_captured == 1
    assert "no frame for 0.2 s" in stats.last_error
    assert fake.calls.count(("Open",)) >= 2 and ("Close",) in fake.calls


def test_worker_with_missing_jetson_utils_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jetson_utils", None)
    worker = CameraWorker(_camera("csi://0", reconnect_initial_s=0.01))
    worker.start()
    try:
        deadline = time.monotonic() + 3.0
        while worker.stats().state != "ended" and time.monotonic() < deadline:
            time.sleep(0.02)
        stats = worker.stats()
    finally:
        assert worker.stop(1.0)
    assert stats.state == "ended" and "jetson-utils" in stats.last_error


def test_opencv_backend_never_imports_jetson_code(tmp_path: Path) -> None:
    """In a fresh interpreter: building and opening an OpenCV camera imports no jetson code."""
    code = (
        "import sys\n"
        "from edge_agent.capture.source import create_source\n"
        "from edge_agent.capture.camera_worker import CameraWorker\n"
        "from edge_agent.capture.preflight import preflight\n"
        "from edge_agent.capture.sample_footage import write_synthetic_clip\n"
        "from edge_agent.settings import CameraSettings\n"
        "from pathlib import Path\n"
        f"clip = write_synthetic_clip(Path({str(tmp_path / 'c.avi')!r}), 32, 24, 5.0, 0.4)\n"
        "camera = CameraSettings(id='a', url=str(clip))\n"
        "preflight(camera)\n"
        "source = create_source(camera)\n"
        "source.open(); assert source.read(1.0).status == 'frame'; source.close()\n"
        "bad = [m for m in sys.modules if 'jetson' in m]\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
