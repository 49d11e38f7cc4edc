"""What every frame source promises, and how a camera URL picks one.

The camera worker only knows this interface, so OpenCV (files, V4L2, RTSP/HTTP anywhere) and
jetson-utils (hardware decode and CSI on a Jetson) are interchangeable, and the Jetson
library is imported only when a camera asks for it: a PC without it still runs everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from typing_extensions import Literal, Protocol

from edge_agent.settings import CameraSettings
from edge_agent.settings.camera_url import parse_camera_url

ReadStatus = Literal["frame", "end", "timeout", "error"]

@dataclass(frozen=True)
class ReadResult:
    """Outcome of one read: a frame, end of a file, no frame yet, or a failure.

    pixels is set only for status 'frame': uint8 (H, W, 3) BGR, owned by the caller.
    message explains an 'error' (it ends up in CameraStats.last_error).
    """

    status: ReadStatus
    pixels: Optional[np.ndarray] = None
    message: str = ""

    @classmethod
    def frame(cls, pixels: np.ndarray) -> ReadResult:
        """A decoded frame the caller now owns."""
        return cls("frame", pixels)

    @classmethod
    def end(cls) -> ReadResult:
        """The source has no more frames (a file reached its end)."""
        return cls("end")

    @classmethod
    def timeout(cls) -> ReadResult:
        """No frame arrived within the read timeout; the stream may still be alive."""
        return cls("timeout")

    @classmethod
    def error(cls, message: str) -> ReadResult:
        """The source failed; the worker reopens it after a backoff."""
        return cls("error", message=message)


class FrameSource(Protocol):
    """One opened video input. Not thread-safe: one worker thread owns it."""

    def open(self) -> None:
        """Acquire the input; raise InputNotFoundError when it cannot be opened now."""
        ...

    def read(self, timeout_s: float) -> ReadResult:
        """Return the next frame, or why there is none. Never raises for stream failures."""
        ...

    def close(self) -> None:
        """Release the input; safe to call twice or without open()."""
        ...

    def describe(self) -> str:
        """The URL for logs, with any password masked."""
        ...


def create_source(camera: CameraSettings) -> FrameSource:
    """Build the source for `camera` (not opened yet); ConfigError for an unusable URL."""
    parsed = parse_camera_url(camera.url, camera.backend)
    if camera.backend == "jetson":
        # Imported here so an OpenCV-only install never touches jetson code.
        from edge_agent.capture.jetson_source import JetsonSource

        return JetsonSource(camera, parsed)
    from edge_agent.capture.opencv_source import OpenCvSource

    return OpenCvSource(camera, parsed)
