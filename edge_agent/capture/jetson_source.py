"""Frames from jetson_utils.videoSource: NVDEC hardware decode and CSI cameras on a Jetson.

Kept thin on purpose: jetson-utils already does decode, scaling (`width`/`height`), rate
limiting (`framerate`) and file looping (`loop`). What this class adds is the mapping to
ReadResult and an owned BGR copy, because a captured cudaImage lives in the source's ring
buffer and is overwritten a few captures later (PyVideo.cpp: "videoSource will free the
underlying memory when source is deleted").

API facts used (dusty-nv/jetson-utils, python/bindings/PyVideo.cpp and cpp/ at fae4b42):
- videoSource(uri, argv=None, positionArg=-1, options=None); `options` exists since
  2023-05 (72a4295); older builds only parse argv flags such as --input-width=N.
- Capture(format='rgb8', timeout=1000 ms) returns None on TIMEOUT (since 2023-03, 5bc6440)
  and raises Exception("videoSource failed to capture image") on EOS or ERROR; after EOS
  without looping IsStreaming() is False (gstDecoder::onEOS).
- Decoders and cameras convert only to rgb8/rgba8/rgb32f/rgba32f (gstBufferManager::Dequeue
  → cudaConvertColor has no NV12→BGR path), so we capture rgb8 and swap to BGR on the CPU.
- options['loop']: -1 = forever, 0 = no loop, N = N loops (videoOptions.h).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Optional

import cv2
import numpy as np

from edge_agent.capture.source import ReadResult
from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.settings import CameraSettings
from edge_agent.settings.camera_url import CameraUrl, mask_url

logger = logging.getLogger(__name__)

_FORMAT = "rgb8"
_ARGV_FLAGS = {"width": "width", "height": "height", "framerate": "rate", "loop": "loop"}


def _import_jetson_utils() -> ModuleType:
    try:
        return importlib.import_module("jetson_utils")
    except ImportError as exc:
        raise ConfigError(
            "backend 'jetson' needs jetson-utils (built with jetson-inference on the Jetson); "
            f"importing it failed: {exc}",
            fix="install jetson-utils (github.com/dusty-nv/jetson-inference) or set "
            'backend = "opencv" for this camera',
        ) from exc


class JetsonSource:
    """A FrameSource over jetson_utils.videoSource for one camera."""

    def __init__(self, camera: CameraSettings, url: CameraUrl) -> None:
        self._camera = camera
        self._url = url
        self._jetson: Optional[ModuleType] = None
        self._source: Any = None

    def describe(self) -> str:
        """The camera URL with any password masked."""
        return mask_url(self._url.original)

    def uri(self) -> str:
        """The URI jetson-utils gets: absolute file:// paths and /dev/videoN nodes."""
        url = self._url
        if url.kind == "file":
            return "file://" + str(Path(url.location).absolute())
        if url.kind == "v4l2":
            return "v4l2://" + str(Path(url.location).resolve())  # it parses /dev/video%i only
        if url.kind == "csi":
            return "csi://" + url.location
        return url.location

    def options(self) -> Dict[str, Any]:
        """videoOptions for this camera; unset keys keep jetson-utils' defaults."""
        camera = self._camera
        opts: Dict[str, Any] = {}
        if camera.width:
            opts["width"] = camera.width
        if camera.height:
            opts["height"] = camera.height
        # For decoders framerate adds `videorate drop-only max-rate`; for cameras it selects
        # the sensor mode, which must exist, so there the worker throttles instead.
        if camera.max_fps and self._url.kind in ("file", "network"):
            opts["framerate"] = float(camera.max_fps)
        if self._url.is_file:
            opts["loop"] = -1 if camera.on_eof == "loop" else 0
        return opts

    def open(self) -> None:
        """Create and start the videoSource; InputNotFoundError when that fails."""
        self.close()
        jetson = _import_jetson_utils()
        try:
            source = self._create(jetson)
            source.Open()
        except Exception as exc:  # noqa: BLE001 - jetson-utils raises bare Exception
            raise InputNotFoundError(
                f"camera {self._camera.id!r}: jetson-utils cannot open {self.describe()}: {exc}",
                fix="check the URL, the device or file, and the GStreamer log above; "
                "file:// needs a container jetson-utils knows (mp4, mkv, avi, flv, ...)",
            ) from exc
        self._jetson, self._source = jetson, source
        logger.info("camera %s: opened %s with jetson-utils", self._camera.id, self.describe())

    def read(self, timeout_s: float) -> ReadResult:
        """Capture with a timeout; None → timeout, exception → end of stream or error."""
        jetson, source = self._jetson, self._source
        if jetson is None or source is None:
            return ReadResult.error("read before open()")
        timeout_ms = max(0, int(timeout_s * 1000))
        try:
            image = source.Capture(format=_FORMAT, timeout=timeout_ms)
        except Exception as exc:  # noqa: BLE001 - EOS and errors are both bare Exception
            if not source.IsStreaming():
                return ReadResult.end()
            return ReadResult.error(f"jetson-utils capture failed: {exc}")
        if image is None:
            return ReadResult.timeout()
        try:
            jetson.cudaDeviceSynchronize()
            view = np.asarray(jetson.cudaToNumpy(image))
        except Exception as exc:  # noqa: BLE001 - cudaToNumpy raises bare Exception
            return ReadResult.error(f"jetson-utils cudaToNumpy failed: {exc}")
        if view.dtype != np.uint8 or view.ndim != 3 or view.shape[2] != 3:
            return ReadResult.error(f"unexpected {_FORMAT} image {view.dtype} {view.shape}")
        # cvtColor writes a new array: the BGR copy we own, off the ring buffer.
        return ReadResult.frame(np.asarray(cv2.cvtColor(view, cv2.COLOR_RGB2BGR)))

    def close(self) -> None:
        """Stop streaming and drop the videoSource (its destructor frees the buffers)."""
        source, self._source = self._source, None
        self._jetson = None
        if source is not None:
            try:
                source.Close()
            except Exception as exc:  # noqa: BLE001 - closing must not fail the worker
                logger.warning("camera %s: videoSource.Close() failed: %s", self._camera.id, exc)

    def _create(self, jetson: ModuleType) -> Any:
        """videoSource with options; argv flags for builds older than the options dict."""
        try:
            return jetson.videoSource(self.uri(), options=self.options())
        except TypeError:
            return jetson.videoSource(self.uri(), argv=self._argv())

    def _argv(self) -> List[str]:
        """The same options as --input-* flags (videoOptions::Parse scans every argv entry)."""
        return [f"--input-{_ARGV_FLAGS[key]}={value}" for key, value in self.options().items()]
