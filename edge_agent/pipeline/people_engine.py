"""PeopleNet + ReIdentificationNet on any backend, batching frames of several cameras.

One inference call per model per round, whatever the number of cameras: the frames of every
due camera go into one PeopleNet batch (split only where the engine's batch limit forces
it), and the person crops of all those frames into one ReID batch. On a Jetson a batch of
four costs far less than four calls; on the CPU it saves per-call overhead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from edge_agent.errors import ModelContractError
from edge_agent.frames import Frame
from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.serving import serving_backend
from edge_agent.inference.tensorrt_backend import dla_layers_of
from edge_agent.models import peoplenet, reid


@dataclass(frozen=True)
class PeopleResult:
    """Person detections of one frame and their unit embeddings (None without ReID)."""

    frame: Frame
    detections: peoplenet.Detections
    embeddings: Optional[np.ndarray]


@dataclass(frozen=True)
class PeopleBatchResult:
    """Per-frame results of one round and the calls/time it took."""

    results: List[PeopleResult]
    detector_calls: int
    reid_calls: int
    inference_ms: float
    detect_ms: float = 0.0
    reid_ms: float = 0.0


def batch_limit(backend: InferenceBackend, manifest_max: int) -> int:
    """Largest batch the loaded model takes: its fixed batch dim, else the manifest's limit."""
    dim = backend.inputs[0].shape[0] if backend.inputs and backend.inputs[0].shape else 1
    if isinstance(dim, int) and dim > 0:
        return dim
    return max(manifest_max, 1)


def chunks(count: int, size: int) -> List[range]:
    """[0, count) cut into consecutive ranges of at most `size`."""
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


class PeopleEngine:
    """Detector plus optional embedder; frames of any cameras in, per-frame people out."""

    def __init__(
        self,
        detector: InferenceBackend,
        params: peoplenet.ClusterParams,
        detector_max_batch: int,
        embedder: Optional[InferenceBackend] = None,
        embedder_max_batch: int = 16,
        embedding_size: int = 256,
    ) -> None:
        self._detector = detector
        self._params = params
        self._embedder = embedder
        self.embedding_size = embedding_size
        names = {spec.name for spec in detector.outputs}
        if not {peoplenet.COV_NAME, peoplenet.BBOX_NAME} <= names:
            raise ModelContractError(
                f"detector outputs {sorted(names)} lack {peoplenet.COV_NAME} / "
                f"{peoplenet.BBOX_NAME}",
                "use a PeopleNet (DetectNet_v2) ONNX or its stand-in",
            )
        self.detector_batch = batch_limit(detector, detector_max_batch)
        self.embedder_batch = (
            batch_limit(embedder, embedder_max_batch) if embedder is not None else 0
        )
        if embedder is not None:
            out = embedder.outputs[0].shape[-1] if embedder.outputs else None
            if isinstance(out, int) and out != embedding_size:
                raise ModelContractError(
                    f"the ReID model outputs {out}-d embeddings but "
                    f"models.tracking.embedding_size = {embedding_size}",
                    f"set models.tracking.embedding_size = {out}",
                )

    @property
    def detector_backend(self) -> str:
        """Backend serving PeopleNet now, e.g. 'tensorrt-building' (inference.serving)."""
        return serving_backend(self._detector)

    @property
    def embedder_backend(self) -> Optional[str]:
        """Backend serving ReID now; None without ReID."""
        return serving_backend(self._embedder) if self._embedder is not None else None

    @property
    def detector_dla_layers(self) -> Optional[int]:
        """PeopleNet layers on a DLA core; None when not a DLA engine."""
        return dla_layers_of(self._detector)

    @property
    def embedder_dla_layers(self) -> Optional[int]:
        """ReID layers on a DLA core; None when not a DLA engine (or no ReID)."""
        return dla_layers_of(self._embedder) if self._embedder is not None else None

    @property
    def has_embedder(self) -> bool:
        """True when a ReID model is loaded."""
        return self._embedder is not None

    def detect_prepare(self, frames: Sequence[Frame]) -> List[np.ndarray]:
        """PeopleNet input blobs, one per batch the engine's limit allows."""
        return [peoplenet.preprocess([frames[i].pixels for i in part])
                for part in chunks(len(frames), self.detector_batch)]

    def detect_run(self, blobs: Sequence[np.ndarray]) -> List[Dict[str, np.ndarray]]:
        """The PeopleNet calls for prepared blobs (the accelerator step)."""
        return [self._detector.run({peoplenet.INPUT_NAME: blob}) for blob in blobs]

    def detect_decode(self, frames: Sequence[Frame],
                      raws: Sequence[Dict[str, np.ndarray]]) -> List[peoplenet.Detections]:
        """Person detections per frame, in frame pixels."""
        out: List[peoplenet.Detections] = []
        for part, raw in zip(chunks(len(frames), self.detector_batch), raws):
            sizes = [frames[i].size_wh for i in part]
            out.extend(
                d.of_class(peoplenet.PERSON_CLASS)
                for d in peoplenet.decode_batch(
                    raw[peoplenet.COV_NAME], raw[peoplenet.BBOX_NAME], sizes, self._params,
                )
            )
        return out

    def detect(self, frames: Sequence[Frame]) -> List[peoplenet.Detections]:
        """Person detections per frame, in frame pixels; as few calls as the limit allows."""
        return self.detect_decode(frames, self.detect_run(self.detect_prepare(frames)))

    def embed_prepare(self, frames: Sequence[Frame],
                      detections: Sequence[peoplenet.Detections]) -> Tuple[List[np.ndarray],
                                                                           List[int]]:
        """ReID input blobs for every frame's crops (shared batches) and crops per frame."""
        crops: List[np.ndarray] = []
        counts: List[int] = []
        for frame, det in zip(frames, detections):
            these = reid.crop_boxes(frame.pixels, det.boxes)
            crops.extend(these)
            counts.append(len(these))
        blobs = [reid.preprocess_crops([crops[i] for i in part])
                 for part in chunks(len(crops), max(1, self.embedder_batch))]
        return blobs, counts

    def embed_run(self, blobs: Sequence[np.ndarray]) -> List[np.ndarray]:
        """The ReID calls for prepared blobs, checked for shape."""
        if self._embedder is None:
            raise ValueError("no ReID model loaded")
        out = []
        for blob in blobs:
            raw = self._embedder.run({reid.INPUT_NAME: blob})[reid.OUTPUT_NAME]
            out.append(reid.check_embeddings(raw, int(blob.shape[0]), self.embedding_size))
        return out

    def embed_decode(self, parts: Sequence[np.ndarray], counts: Sequence[int]) -> List[np.ndarray]:
        """Unit embeddings per frame ([K_i, D])."""
        features = (np.concatenate(list(parts)) if parts
                    else np.zeros((0, self.embedding_size), dtype=np.float32))
        return reid.split_counts(features, list(counts))

    def embed(
        self, frames: Sequence[Frame], detections: Sequence[peoplenet.Detections]
    ) -> List[np.ndarray]:
        """Unit embeddings per frame ([K_i, D]); all frames' crops share the ReID batches."""
        if self._embedder is None:
            raise ValueError("no ReID model loaded")
        blobs, counts = self.embed_prepare(frames, detections)
        return self.embed_decode(self.embed_run(blobs), counts)

    def infer(self, frames: Sequence[Frame]) -> PeopleBatchResult:
        """Detect and embed the frames of one round."""
        start = time.perf_counter()
        detections = self.detect(frames)
        detected = time.perf_counter()
        embeddings: List[Optional[np.ndarray]] = [None] * len(frames)
        reid_calls = 0
        if self._embedder is not None:
            total = sum(len(d) for d in detections)
            reid_calls = len(chunks(total, self.embedder_batch))
            embeddings = list(self.embed(frames, detections))
        results = [PeopleResult(f, d, e) for f, d, e in zip(frames, detections, embeddings)]
        end = time.perf_counter()
        return PeopleBatchResult(
            results,
            len(chunks(len(frames), self.detector_batch)),
            reid_calls,
            (end - start) * 1000.0,
            (detected - start) * 1000.0,
            (end - detected) * 1000.0,
        )

    def close(self) -> None:
        """Release both backends."""
        self._detector.close()
        if self._embedder is not None:
            self._embedder.close()
