"""BLAS thread limits are applied before numpy loads, and an operator's values win."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Dict

from edge_agent.runtime.native_threads import THREAD_VARIABLES, limit_native_threads


def test_defaults_to_one_and_keeps_what_is_set() -> None:
    env: Dict[str, str] = {"OMP_NUM_THREADS": "4"}
    limit_native_threads(env)
    assert env == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "1"}


def test_importing_the_package_limits_blas_threads_before_numpy_loads() -> None:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    code = (
        "import edge_agent, numpy, os\n"
        "numpy.ones((200, 200)) @ numpy.ones((200, 200))\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["1", "1"], "one thread: OpenBLAS started no workers"


def test_rtsp_reconnects_print_no_raw_opencv_or_ffmpeg_lines() -> None:
    code = ("import edge_agent, cv2\n"
            "cap = cv2.VideoCapture('rtsp://127.0.0.1:1/x', cv2.CAP_FFMPEG)\n"
            "print('opened', cap.isOpened())\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=env, check=True)
    assert "opened False" in result.stdout
    assert "[tcp @" not in result.stderr and "WARN" not in result.stderr, result.stderr
