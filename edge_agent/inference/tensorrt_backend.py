"""A loaded TensorRT engine as an InferenceBackend: batch limits and input checks around it.

The thin tensorrt_api.TensorRtEngine only moves bytes: it trusts its feeds and the engine's
optimization profile. An engine built for batch 1..batch_max rejects a bigger batch inside
TensorRT with a message that names no model, and the agent's batch (one frame per camera) can
exceed what a Nano's profile allows. So this wrapper checks every batch against the engine's
named inputs (dtype, rank, fixed dims) and splits a batch larger than `batch_max` into chunks
that fit, joining the outputs along the batch dimension. Outputs are returned as the engine
makes them: PeopleSemSegNet's `argmax_1` is INT32 in a TensorRT engine (INT64 in the ONNX) and
decoding accepts both.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

import numpy as np

from edge_agent.inference.backend import InferenceBackend, TensorSpec
from edge_agent.inference.contract import check_batch


class TensorRtBackend:
    """Wraps a deserialized engine (real or FAKE); implements InferenceBackend."""

    serving = "tensorrt"  # inference.serving.TENSORRT, for telemetry and the status line

    def __init__(self, engine: InferenceBackend, batch_max: int, label: str) -> None:
        if batch_max < 1:
            raise ValueError(f"batch_max must be >= 1, got {batch_max}")
        self._engine = engine
        self.batch_max = batch_max
        self.label = label  # e.g. the engine file name, for logs
        self._inputs = tuple(engine.inputs)
        self._outputs = tuple(engine.outputs)

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        """Input tensors as the engine declares them (a dynamic batch dim is 'N')."""
        return self._inputs

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        """Output tensors as the engine declares them."""
        return self._outputs

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Run a batch of any size, in chunks of at most `batch_max`."""
        check_batch(feeds, self._inputs)
        batch = next(iter(feeds.values())).shape[0] if feeds else 0
        if batch <= self.batch_max:
            return self._engine.run({n: np.ascontiguousarray(a) for n, a in feeds.items()})
        parts: List[Dict[str, np.ndarray]] = []
        for start in range(0, batch, self.batch_max):
            chunk = {n: np.ascontiguousarray(a[start:start + self.batch_max])
                     for n, a in feeds.items()}
            parts.append(self._engine.run(chunk))
        return {name: np.concatenate([p[name] for p in parts], axis=0) for name in parts[0]}

    def close(self) -> None:
        """Release the engine and its device buffers."""
        self._engine.close()
