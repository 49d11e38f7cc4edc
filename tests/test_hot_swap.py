"""HotSwapBackend: a batch never straddles two backends; nothing leaks around close()."""

from __future__ import annotations

import threading
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import pytest

from edge_agent.errors import EdgeAgentError
from edge_agent.inference.hot_swap import HotSwapBackend
from edge_agent.models.tensor_spec import TensorSpec


class Recorder:
    """A tiny real backend: returns its own name; records calls (no hardware involved)."""

    def __init__(self, name: str, gate: Optional[threading.Event] = None) -> None:
        self.name = name
        self.gate = gate
        self.closed = False
        self.runs = 0

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        return [TensorSpec("x", ("float32",), ("N", 2))]

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        return [TensorSpec("y", ("int32",), ("N",))]

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        if self.gate is not None:
            self.gate.wait(5)
        assert not self.closed, f"{self.name} ran after close"
        self.runs += 1
        return {"y": np.zeros(1, dtype=np.int32)}

    def close(self) -> None:
        self.closed = True


def test_swap_waits_for_the_running_batch_then_closes_the_old() -> None:
    gate = threading.Event()
    old, new = Recorder("old", gate), Recorder("new")
    serving = HotSwapBackend(old, "onnxruntime")
    feeds = {"x": np.zeros((1, 2), np.float32)}
    runner = threading.Thread(target=serving.run, args=(feeds,))
    runner.start()
    swapper = threading.Thread(target=serving.swap, args=(new, "tensorrt"))
    swapper.start()
    swapper.join(0.2)
    assert swapper.is_alive() and not old.closed  # the batch in flight keeps the old one
    gate.set()
    runner.join(5)
    swapper.join(5)
    assert old.closed and old.runs == 1 and serving.active == "tensorrt"
    serving.run(feeds)
    assert new.runs == 1 and serving.swaps == 1


def test_close_runs_hooks_and_a_late_swap_closes_the_newcomer() -> None:
    hooks: List[str] = []
    first, late = Recorder("first"), Recorder("late")
    serving = HotSwapBackend(first, "onnxruntime")
    serving.on_close(lambda: hooks.append("stop build"))
    serving.close()
    assert hooks == ["stop build"] and first.closed
    assert serving.swap(late, "tensorrt") is False and late.closed
    with pytest.raises(EdgeAgentError):
        serving.run({"x": np.zeros((1, 2), np.float32)})
