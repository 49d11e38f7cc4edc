"""Loaded models, owned in one place for the life of the agent.

Engines are expensive (a TensorRT build takes minutes, a load seconds and hundreds of MB), so
they are loaded once and outlive reloads: tasks borrow them by key and a reload that rebuilds
tasks finds them here. The TensorRT hot swap and the build lock live inside the loaded
objects (inference.hot_swap, inference.build_lock); the registry only decides *when* a model
is loaded and closed: loaded on first use, closed when a reload leaves no task using it, and
all closed at stop.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, Iterable, List, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ModelRegistry:
    """Key -> loaded model object with a `close()` method."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: Dict[str, Any] = {}
        self.loads = 0

    def get_or_load(self, key: str, loader: Callable[[], T]) -> T:
        """The model under `key`, loading it with `loader` on first use."""
        with self._lock:
            if key in self._models:
                model: T = self._models[key]
                return model
        loaded = loader()  # outside the lock: loads may take long and raise
        with self._lock:
            if key in self._models:  # loaded concurrently: keep the first, drop ours
                _close(loaded, key)
                kept: T = self._models[key]
                return kept
            self._models[key] = loaded
            self.loads += 1
        return loaded

    def keys(self) -> List[str]:
        """Keys of the loaded models."""
        with self._lock:
            return list(self._models)

    def release_unused(self, in_use: Iterable[str]) -> List[str]:
        """Close every model whose key is not in `in_use`; returns the closed keys."""
        keep = set(in_use)
        with self._lock:
            unused = {key: model for key, model in self._models.items() if key not in keep}
            for key in unused:
                del self._models[key]
        for key, model in unused.items():
            _close(model, key)
        return list(unused)

    def close_all(self) -> None:
        """Close everything (agent stop)."""
        self.release_unused(())


def _close(model: Any, key: str) -> None:
    close = getattr(model, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception as err:  # noqa: BLE001 - closing one model must not stop closing others
        logger.warning("closing model %s failed: %s", key, err)
