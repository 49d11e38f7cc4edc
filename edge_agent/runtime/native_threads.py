"""Settings native libraries read once at load: BLAS threads, and OpenCV/FFmpeg log noise.

One BLAS/OpenMP thread per process, set before numpy or scipy load their libraries.

Why: OpenBLAS (numpy/scipy wheels) starts one worker thread per core and spins them up for
every small matrix product; the tracker's cost matrices are tiny and the cores are already
busy with capture, inference and the event threads, so those workers mostly fight the rest
of the agent (the tracker benchmark's p95 grew several-fold with them). The variables are
read once, when the native library loads, so this runs from `edge_agent/__init__.py`, before
any submodule imports numpy; the systemd unit sets the same values in Environment=. Values
already set in the environment win (setdefault), so an operator can still raise them.
"""

from __future__ import annotations

import os
from typing import MutableMapping, Optional

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_native_threads(environ: Optional[MutableMapping[str, str]] = None) -> None:
    """Default every BLAS/OpenMP thread-count variable to 1 where it is not set."""
    env = os.environ if environ is None else environ
    for name in THREAD_VARIABLES:
        env.setdefault(name, "1")


# OpenCV's own "[ WARN:0@3.514] global cap.cpp ..." lines and FFmpeg's "[tcp @ 0x...]" lines
# go straight to stderr, bypassing the agent's logging, every time an RTSP camera reconnects;
# the camera worker already logs one line per failure with the camera id and the reason.
# OPENCV_FFMPEG_LOGLEVEL -8 is FFmpeg's AV_LOG_QUIET. An operator debugging a stream can set
# either variable (setdefault keeps it).
QUIET_NATIVE_LOGS = {"OPENCV_LOG_LEVEL": "ERROR", "OPENCV_FFMPEG_LOGLEVEL": "-8"}


def quiet_native_logs(environ: Optional[MutableMapping[str, str]] = None) -> None:
    """Default OpenCV's and FFmpeg's stderr logging to errors only / quiet where not set."""
    env = os.environ if environ is None else environ
    for name, value in QUIET_NATIVE_LOGS.items():
        env.setdefault(name, value)
