"""Frames from cv2.VideoCapture: files, V4L2 devices and network streams.

This is the backend that works everywhere (PC, CI, Jetson without jetson-utils). Note that
VideoCapture.read() blocks: the read timeout is given to FFmpeg (CAP_PROP_READ_TIMEOUT_MSEC)
where this OpenCV has it, and the camera worker detects stalls on top; this class never
spawns threads of its own.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

from edge_agent.capture.source import ReadResult
from edge_agent.errors import InputNotFoundError
from edge_agent.settings import CameraSettings
from edge_agent.settings.camera_url import CameraUrl, mask_url

logger = logging.getLogger(__name__)

_VIDEO_NODE = re.compile(r"^/dev/video(\d+)$")


def to_bgr(pixels: np.ndarray) -> np.ndarray:
    """Return uint8 (H, W, 3) BGR from whatever a decoder handed out (gray, BGRA)."""
    if pixels.ndim == 2:
        return np.asarray(cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR))
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return np.asarray(cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR))
    return pixels


def _device_index(device_path: str) -> Optional[int]:
    """/dev/video2 (or a /dev/v4l/by-id link to it) → 2; None when not a video node."""
    match = _VIDEO_NODE.match(str(Path(device_path).resolve()))
    return int(match.group(1)) if match else None


def _timeout_params(timeout_ms: int) -> List[int]:
    """VideoCapture open parameters for FFmpeg timeouts, empty where this cv2 lacks them."""
    params: List[int] = []
    for name in ("CAP_PROP_OPEN_TIMEOUT_MSEC", "CAP_PROP_READ_TIMEOUT_MSEC"):
        prop = getattr(cv2, name, None)
        if prop is not None:
            params += [int(prop), timeout_ms]
    return params


class OpenCvSource:
    """A FrameSource over cv2.VideoCapture for one camera."""

    def __init__(self, camera: CameraSettings, url: CameraUrl) -> None:
        self._camera = camera
        self._url = url
        self._capture: Optional[cv2.VideoCapture] = None
        self._opens = 0

    def describe(self) -> str:
        """The camera URL with any password masked."""
        return mask_url(self._url.original)

    def open(self) -> None:
        """Open the input; InputNotFoundError names the URL and what to check."""
        self.close()
        capture = self._create_capture()
        if not capture.isOpened():
            capture.release()
            raise InputNotFoundError(
                f"camera {self._camera.id!r}: OpenCV cannot open {self.describe()}",
                fix=self._open_fix(),
            )
        self._capture = capture
        self._opens += 1
        # A looping file is reopened at every end by a fresh source object (the camera
        # worker builds one per open), so a file open is never news: DEBUG. A device or a
        # stream is opened again only after a failure, which is worth an INFO line.
        logger.log(
            logging.DEBUG if self._url.is_file or self._opens > 1 else logging.INFO,
            "camera %s: opened %s with OpenCV",
            self._camera.id,
            self.describe(),
        )

    def read(self, timeout_s: float) -> ReadResult:
        """Next frame. Blocks inside OpenCV; timeout_s is enforced by FFmpeg, not here."""
        del timeout_s  # VideoCapture.read has no per-call timeout (see module docstring)
        capture = self._capture
        if capture is None:
            return ReadResult.error("read before open()")
        try:
            ok, pixels = capture.read()
        except cv2.error as exc:
            return ReadResult.error(f"OpenCV read failed: {exc}")
        if not ok or pixels is None:
            if self._url.is_file:
                return ReadResult.end()
            return ReadResult.error(f"no frame from {self.describe()} (stream lost)")
        return ReadResult.frame(self._fit(to_bgr(np.asarray(pixels))))

    def close(self) -> None:
        """Release the capture; idempotent."""
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()

    def _create_capture(self) -> cv2.VideoCapture:
        url = self._url
        if url.kind == "file":
            return cv2.VideoCapture(url.location)
        if url.kind == "v4l2":
            return self._open_device(url.location)
        timeout_ms = max(1, int(self._camera.read_timeout_s * 1000))
        params = _timeout_params(timeout_ms)
        try:
            return cv2.VideoCapture(url.location, cv2.CAP_FFMPEG, params)
        except TypeError:  # cv2 < 4.5.2 has no params overload
            return cv2.VideoCapture(url.location, cv2.CAP_FFMPEG)

    def _open_device(self, device_path: str) -> cv2.VideoCapture:
        """Open a V4L2 node by index (the form every OpenCV accepts) and request a size."""
        index = _device_index(device_path)
        api = int(getattr(cv2, "CAP_V4L2", cv2.CAP_ANY))
        capture = cv2.VideoCapture(device_path if index is None else index, api)
        if capture.isOpened():
            if self._camera.width:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, float(self._camera.width))
            if self._camera.height:
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, float(self._camera.height))
        return capture

    def _fit(self, pixels: np.ndarray) -> np.ndarray:
        """Resize to width x height when both are set and the source ignored the request.

        Keeps both backends alike: jetson-utils scales decoded video to the requested size.
        """
        want_w, want_h = self._camera.width, self._camera.height
        if not (want_w and want_h) or pixels.shape[:2] == (want_h, want_w):
            return pixels
        return np.asarray(cv2.resize(pixels, (want_w, want_h), interpolation=cv2.INTER_AREA))

    def _open_fix(self) -> str:
        kind = self._url.kind
        if kind == "file":
            return "check that the file exists, is readable and is a video OpenCV can decode"
        if kind == "v4l2":
            return (
                "check the device exists (ls /dev/video*), is not used by another program and "
                "that the service user is in the 'video' group"
            )
        return "check the host is reachable, the path and the credentials (try it in ffplay)"
