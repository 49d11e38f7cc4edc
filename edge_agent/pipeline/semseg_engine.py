"""PeopleSemSegNet on any backend: frames in, decoded class maps and stage timings out.

Holds the model-family code (preprocess, decode) and the backend together so that the
inference loop deals only in frames and results, and so the benchmark can time exactly the
same calls the daemon makes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from edge_agent.errors import ModelContractError
from edge_agent.frames import Frame
from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.serving import serving_backend
from edge_agent.inference.tensorrt_backend import dla_layers_of
from edge_agent.models import semseg

OUTPUT_NAME = "argmax_1"


@dataclass(frozen=True)
class PreparedBatch:
    """Frames and their network input, ready to run; made off the inference thread."""

    frames: List[Frame]
    blob: np.ndarray
    preprocess_ms: float


@dataclass(frozen=True)
class SegBatchResult:
    """Decoded outputs of one batch and how long each stage took for the whole batch."""

    outputs: List[semseg.SegOutput]
    preprocess_ms: float
    inference_ms: float
    decode_ms: float


class SemSegEngine:
    """Runs PeopleSemSegNet on batches of frames through an InferenceBackend."""

    def __init__(self, backend: InferenceBackend, model_name: str, standin: bool) -> None:
        self._backend = backend
        self.model_name = model_name
        self.standin = standin
        inputs = list(backend.inputs)
        if len(inputs) != 1:
            raise ModelContractError(
                f"{model_name} has {len(inputs)} inputs, PeopleSemSegNet has exactly one",
                "use a PeopleSemSegNet deployable ONNX (or a stand-in from "
                "`edge-agent models standin`)",
            )
        self._input_name = inputs[0].name
        if OUTPUT_NAME not in {spec.name for spec in backend.outputs}:
            raise ModelContractError(
                f"{model_name} has no output named {OUTPUT_NAME!r}",
                "use a PeopleSemSegNet deployable ONNX (v2 vanilla UNet or ShuffleSeg)",
            )
        batch_dim = inputs[0].shape[0] if inputs[0].shape else 1
        self.max_batch = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else 0

    @property
    def backend(self) -> str:
        """Backend serving the model now, e.g. 'tensorrt-building' (inference.serving)."""
        return serving_backend(self._backend)

    @property
    def dla_layers(self) -> Optional[int]:
        """Layers on a DLA core (TensorRT engine built for one); None otherwise."""
        return dla_layers_of(self._backend)

    def prepare(self, frames: Sequence[Frame]) -> PreparedBatch:
        """Preprocess a batch. Separate from run() so it can overlap the previous inference."""
        if not frames:
            raise ValueError("a batch needs at least one frame")
        if self.max_batch and len(frames) > self.max_batch:
            raise ValueError(f"batch of {len(frames)} exceeds the engine's {self.max_batch}")
        start = time.perf_counter()
        blob = semseg.preprocess([frame.pixels for frame in frames])
        return PreparedBatch(list(frames), blob, (time.perf_counter() - start) * 1000.0)

    def run(self, batch: PreparedBatch) -> SegBatchResult:
        """Run and decode a prepared batch; one output per frame, in order."""
        start = time.perf_counter()
        raw = self._backend.run({self._input_name: batch.blob})[OUTPUT_NAME]
        inferred = time.perf_counter()
        class_maps = semseg.decode_class_maps(raw)
        outputs = semseg.split_batch(class_maps, [frame.size_wh for frame in batch.frames])
        decoded = time.perf_counter()
        return SegBatchResult(
            outputs=outputs,
            preprocess_ms=batch.preprocess_ms,
            inference_ms=(inferred - start) * 1000.0,
            decode_ms=(decoded - inferred) * 1000.0,
        )

    def run_raw(self, batch: PreparedBatch) -> np.ndarray:
        """Only the model call (the accelerator step of the segmentation task)."""
        raw: np.ndarray = self._backend.run({self._input_name: batch.blob})[OUTPUT_NAME]
        return raw

    def decode_raw(self, raw: np.ndarray, frames: Sequence[Frame]) -> List[semseg.SegOutput]:
        """Class maps per frame from a raw `argmax_1` batch."""
        return semseg.split_batch(semseg.decode_class_maps(raw), [f.size_wh for f in frames])

    def infer(self, frames: Sequence[Frame]) -> SegBatchResult:
        """Preprocess, run and decode one batch on the calling thread."""
        return self.run(self.prepare(frames))

    def close(self) -> None:
        """Release the backend."""
        self._backend.close()
