"""ONNX Runtime thread counts are always explicit (no affinity pinning under the unit's filter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from edge_agent.inference.onnxruntime_backend import (
    OnnxRuntimeBackend,
    thread_counts,
    usable_cpus,
)
from edge_agent.models.standin import write_standin


def test_thread_counts_are_explicit() -> None:
    assert thread_counts(0, 6) == (6, 1)
    assert thread_counts(2, 6) == (2, 1)
    assert thread_counts(0, 0) == (1, 1)
    assert usable_cpus() == len(os.sched_getaffinity(0))


def test_session_uses_explicit_counts_and_logs_no_affinity_errors(tmp_path: Path) -> None:
    path = write_standin("reidentificationnet", tmp_path)
    backend = OnnxRuntimeBackend(path, [], threads=0)
    assert backend.thread_counts == (usable_cpus(), 1)
    backend.close()
    # In a child restricted to one CPU, ORT must not try to pin threads to other cores
    # (with a default pool it logs "pthread_setaffinity_np failed" there).
    code = ("from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend;"
            "import numpy as np;"
            f"b = OnnxRuntimeBackend({str(path)!r}, [], 0);"
            "b.run({'input': np.zeros((1, 3, 256, 128), np.float32)})")
    done = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "setaffinity" not in done.stderr
