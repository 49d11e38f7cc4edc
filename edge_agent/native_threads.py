"""One BLAS/OpenMP thread per process, set before numpy or scipy load their libraries.

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
