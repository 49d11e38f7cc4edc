"""A backend whose model can be replaced while the agent runs, between two batches.

Used while a TensorRT engine builds in the background: the agent serves with ONNX Runtime on
the CPU meanwhile and switches to the engine once it has passed its smoke inference and the
contract check. The swap takes the same lock as `run()`, so a batch never straddles two
backends and the old one is closed only when no batch uses it. Callers see one backend with
the same tensor names throughout (both were checked against the same manifest).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from edge_agent.errors import EdgeAgentError
from edge_agent.inference.backend import InferenceBackend
from edge_agent.models.tensor_spec import TensorSpec

logger = logging.getLogger(__name__)


class HotSwapBackend:
    """Delegates to the current backend; implements InferenceBackend."""

    def __init__(self, initial: InferenceBackend, label: str) -> None:
        self._lock = threading.Lock()
        self._current = initial
        self._label = label
        self._closed = False
        self._on_close: List[Callable[[], None]] = []
        self.swaps = 0

    @property
    def active(self) -> str:
        """Label of the backend serving now, e.g. 'tensorrt-building' or 'tensorrt'."""
        with self._lock:
            return self._label

    @property
    def serving(self) -> str:
        """The same label without the lock (one attribute read): telemetry and the status
        line must not wait for a batch in progress (inference.serving)."""
        return self._label

    @property
    def dla_layers(self) -> Optional[int]:
        """Layers on the DLA of the backend serving now (tensorrt_backend.dla_layers_of)."""
        value = getattr(self._current, "dla_layers", None)
        return value if isinstance(value, int) else None

    def relabel(self, label: str) -> None:
        """Change the label only, e.g. to 'onnxruntime-cpu' when the engine build failed."""
        with self._lock:
            self._label = label

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        """Inputs of the current backend."""
        with self._lock:
            return self._current.inputs

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        """Outputs of the current backend."""
        with self._lock:
            return self._current.outputs

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Run one batch on whichever backend is current."""
        with self._lock:
            if self._closed:
                raise EdgeAgentError("inference backend was used after close()")
            return self._current.run(feeds)

    def swap(self, backend: InferenceBackend, label: str) -> bool:
        """Serve with `backend` from the next batch on; False (and it is closed) after close()."""
        with self._lock:
            if self._closed:
                old = backend
            else:
                old, self._current, self._label = self._current, backend, label
                self.swaps += 1
            old.close()
            return not self._closed

    def on_close(self, hook: Callable[[], None]) -> None:
        """Run `hook` first thing in close() (e.g. cancel a background build)."""
        self._on_close.append(hook)

    def close(self) -> None:
        """Run the hooks (outside the lock: a hook may join a thread that swaps), then close."""
        for hook in self._on_close:
            hook()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._current.close()
