"""A loaded TensorRT engine as an InferenceBackend: batch limits and input checks around it.

The thin tensorrt_api.TensorRtEngine only moves bytes: it trusts its feeds and the engine's
optimization profile. An engine built for batch 1..batch_max rejects a bigger batch inside
TensorRT with a message that names no model, and the agent's batch (one frame per camera) can
exceed what a Nano's profile allows. So this wrapper checks every batch against the engine's
named inputs (dtype, rank, fixed dims) and splits a batch larger than `batch_max` into chunks
that fit, joining the outputs along the batch dimension. A static-batch engine (every DLA
engine: min == opt == max) accepts exactly `batch_max`, so a shorter batch is padded with zeros
and the padding rows dropped from the outputs. Outputs are returned as the engine
makes them: PeopleSemSegNet's `argmax_1` is INT32 in a TensorRT engine (INT64 in the ONNX) and
decoding accepts both.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.contract import check_batch
from edge_agent.models.tensor_spec import TensorSpec


class TensorRtBackend:
    """Wraps a deserialized engine (real or FAKE); implements InferenceBackend."""

    serving = "tensorrt"  # inference.serving.TENSORRT, for telemetry and the status line

    def __init__(self, engine: InferenceBackend, batch_max: int, label: str,
                 batch_min: int = 1, dla_layers: Optional[int] = None) -> None:
        if batch_max < 1:
            raise ValueError(f"batch_max must be >= 1, got {batch_max}")
        self._engine = engine
        self.batch_max = batch_max
        self.static_batch = batch_min >= batch_max  # the engine takes batch_max rows only
        self.label = label  # e.g. the engine file name, for logs
        self.dla_layers = dla_layers  # layers TensorRT put on the DLA; None = GPU or unknown
        self._inputs = tuple(engine.inputs)
        self._outputs = tuple(engine.outputs)

    @property
    def allocations(self) -> Optional[int]:
        """CUDA allocations the engine made so far (None when it does not count them)."""
        value = getattr(self._engine, "allocations", None)
        return value if isinstance(value, int) else None

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
            return self._run_chunk(feeds, batch)
        parts: List[Dict[str, np.ndarray]] = []
        for start in range(0, batch, self.batch_max):
            chunk = {n: a[start:start + self.batch_max] for n, a in feeds.items()}
            parts.append(self._run_chunk(chunk, min(self.batch_max, batch - start)))
        return {name: np.concatenate([p[name] for p in parts], axis=0) for name in parts[0]}

    def _run_chunk(self, feeds: Mapping[str, np.ndarray], rows: int) -> Dict[str, np.ndarray]:
        if not self.static_batch or rows == self.batch_max:
            return self._engine.run({n: np.ascontiguousarray(a) for n, a in feeds.items()})
        padded = {}
        for name, array in feeds.items():
            full = np.zeros((self.batch_max,) + tuple(array.shape[1:]), dtype=array.dtype)
            full[:rows] = array
            padded[name] = full
        return {name: out[:rows] for name, out in self._engine.run(padded).items()}

    def close(self) -> None:
        """Release the engine and its device buffers."""
        self._engine.close()


def dla_layers_of(backend: object) -> Optional[int]:
    """Layers TensorRT put on the DLA for the engine serving `backend` (TensorRtBackend or a
    HotSwapBackend around one); None for the CPU, a GPU engine or an unknown placement.
    For telemetry: `{"dla_layers": {model: dla_layers_of(backend)}}`."""
    value = getattr(backend, "dla_layers", None)
    return value if isinstance(value, int) else None
