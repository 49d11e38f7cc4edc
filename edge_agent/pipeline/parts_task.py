"""Human parts as a task: a crop task on the tracker's people, one part map per person out.

Declares the tracking/ReID task as its upstream and receives its `PeopleResult` per frame; the
people worth segmenting (tall enough, the largest few) are cropped, all crops of a batch of
frames share the model's batches, and each person's part map comes back placed at its box.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, FrozenSet, Iterable, List, Sequence, Tuple

import numpy as np

from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.serving import serving_backend
from edge_agent.models.manifest import ModelManifest
from edge_agent.parts.crops import PersonCrop, crop_blob, select_people
from edge_agent.parts.decode import FramePartsResult, decode_people
from edge_agent.pipeline.people_engine import PeopleResult
from edge_agent.runtime.task import WorkItem
from edge_agent.settings.segic import HumanPartsSettings

PARTS_TASK = "human_parts"
# Frames per run; their crops are batched together up to the model's limit.
PARTS_FRAMES_PER_BATCH = 4


@dataclass(frozen=True)
class _Prepared:
    crops: List[List[PersonCrop]]
    blob: np.ndarray


class PartsTask:
    """Implements the runtime's Task protocol for a human-part model."""

    name = PARTS_TASK
    max_batch = PARTS_FRAMES_PER_BATCH

    def __init__(self, backend: InferenceBackend, manifest: ModelManifest,
                 settings: HumanPartsSettings, cameras: Iterable[str], standin: bool,
                 resource: str = "gpu") -> None:
        if manifest.preprocess is None:
            raise ValueError(f"manifest {manifest.name} has no [preprocess] table")
        self._backend = backend
        self._manifest = manifest
        self._pre = manifest.preprocess
        self._settings = settings
        self._input = manifest.inputs[0].name
        self._output = manifest.outputs[0].name
        self._model_batch = max(1, manifest.max_batch)
        self.model = manifest.name
        self.labels: Tuple[str, ...] = tuple(manifest.labels)
        self.upstream = settings.upstream
        self.cameras: FrozenSet[str] = frozenset(cameras)
        self.standin = standin
        self.resource = resource

    def prepare(self, items: Sequence[WorkItem]) -> _Prepared:
        """Pick and crop the people of every frame; one blob for all crops."""
        crops: List[List[PersonCrop]] = []
        blobs: List[np.ndarray] = []
        for item in items:
            people = _people(item)
            chosen = select_people(people.detections.boxes, item.frame.size_wh,
                                   self._settings.min_box_height_px, self._settings.max_people)
            crops.append(chosen)
            blobs.append(crop_blob(item.frame.pixels, chosen, self._pre))
        blob = np.concatenate(blobs) if blobs else np.zeros((0, 3, self._pre.height,
                                                              self._pre.width), np.float32)
        return _Prepared(crops, blob)

    def run(self, data: Any) -> Tuple[_Prepared, np.ndarray, float]:
        """The part model over all crops, in chunks of the model's batch limit."""
        prepared: _Prepared = data
        start = time.perf_counter()
        parts = [self._backend.run({self._input: prepared.blob[i:i + self._model_batch]}
                                   )[self._output]
                 for i in range(0, prepared.blob.shape[0], self._model_batch)]
        classes = len(self.labels)
        logits = np.concatenate(parts) if parts else np.zeros(
            (0, classes, self._pre.height, self._pre.width), np.float32)
        return prepared, logits, (time.perf_counter() - start) * 1000.0

    def decode(self, items: Sequence[WorkItem], raw: Any) -> List[FramePartsResult]:
        """Per frame: each chosen person's part map at its box."""
        prepared, logits, run_ms = raw
        total = max(1, logits.shape[0])
        out = []
        offset = 0
        for item, crops in zip(items, prepared.crops):
            people = decode_people(logits[offset:offset + len(crops)], crops)
            offset += len(crops)
            out.append(FramePartsResult(item.frame.size_wh, tuple(people),
                                        run_ms * len(crops) / total))
        return out

    def backend_label(self) -> str:
        """Backend serving the model now."""
        return serving_backend(self._backend)


def _people(item: WorkItem) -> PeopleResult:
    upstream = item.upstream
    if not isinstance(upstream, PeopleResult):
        raise TypeError(f"human-parts input for camera {item.frame.camera_id} carries "
                        f"{type(upstream).__name__}, not the tracker's PeopleResult")
    return upstream
