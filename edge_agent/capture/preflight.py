"""Start-up check of camera inputs that cannot fix themselves.

A missing or undecodable local file will still be missing in an hour, so the daemon should
refuse to start with a message naming the path (exit code NO_INPUT) rather than retry
forever. Devices and network streams come and go (USB replugged, NVR rebooting), so they are
not checked here: the camera worker retries them at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2

from edge_agent.errors import InputNotFoundError
from edge_agent.settings import CameraSettings
from edge_agent.settings.camera_url import parse_camera_url


def preflight(camera: CameraSettings, decode: bool = True) -> None:
    """Raise ConfigError for an unusable URL, InputNotFoundError for a bad local file.

    decode=False checks only that the file is there and readable (`config check` without
    --online must not spend seconds decoding every clip).
    """
    url = parse_camera_url(camera.url, camera.backend)
    if not url.is_file:
        return
    path = Path(url.location)
    where = f"camera {camera.id!r}: video file {str(path)!r}"
    if not path.exists():
        raise InputNotFoundError(
            f"{where} does not exist",
            fix="correct the camera url (a relative path starts at the working directory of "
            "the agent) or copy the video there",
        )
    if not path.is_file():
        raise InputNotFoundError(f"{where} is not a regular file", fix="point url at a video file")
    if not os.access(path, os.R_OK):
        raise InputNotFoundError(
            f"{where} is not readable by this user",
            fix="grant read permission to the service user (chmod o+r or chgrp)",
        )
    if not decode or camera.backend == "jetson":
        # jetson-utils decodes with GStreamer/NVDEC, whose codec set differs from OpenCV's.
        return
    capture = cv2.VideoCapture(str(path))
    try:
        ok = capture.isOpened() and capture.read()[0]
    finally:
        capture.release()
    if not ok:
        raise InputNotFoundError(
            f"{where} cannot be decoded by OpenCV (no first frame)",
            fix="check the file is a complete video (try `ffprobe FILE`), or re-encode it, "
            "e.g. `ffmpeg -i FILE -c:v mjpeg out.avi`",
        )
