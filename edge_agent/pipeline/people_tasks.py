"""PeopleNet and ReID as tasks: detection on camera frames, embedding on detection crops.

ReID declares PeopleNet as its upstream: it consumes PeopleNet's result for the same frame
(the runtime routes it), so there is no hand-written "detect then embed" sequence any more and
the two can run on different resources (GPU and a DLA core). Every frame PeopleNet saw goes
through ReID, including frames with nobody in them, because the tracker needs every frame.
"""

from __future__ import annotations

from typing import Any, FrozenSet, Iterable, List, Optional, Sequence

from edge_agent.pipeline.people_engine import PeopleEngine, PeopleResult
from edge_agent.runtime.task import WorkItem

PEOPLENET_TASK = "peoplenet"
REID_TASK = "reid"
# Crop inputs per ReID run, in frames (their crops share the engine's own batches).
REID_FRAMES_PER_BATCH = 8


class PeopleNetTask:
    """Person detection on camera frames; results are `PeopleResult` without embeddings."""

    upstream = None
    name = PEOPLENET_TASK

    def __init__(self, engine: PeopleEngine, model: str, cameras: Iterable[str],
                 standin: bool, resource: str = "cpu") -> None:
        self._engine = engine
        self.model = model
        self.standin = standin
        self.cameras: FrozenSet[str] = frozenset(cameras)
        self.resource = resource
        # All due cameras in one round (split into engine batches inside run()).
        self.max_batch = max(1, len(self.cameras))

    def prepare(self, items: Sequence[WorkItem]) -> Any:
        return self._engine.detect_prepare([item.frame for item in items])

    def run(self, data: Any) -> Any:
        return self._engine.detect_run(data)

    def decode(self, items: Sequence[WorkItem], raw: Any) -> List[PeopleResult]:
        frames = [item.frame for item in items]
        detections = self._engine.detect_decode(frames, raw)
        return [PeopleResult(frame, det, None) for frame, det in zip(frames, detections)]

    def backend_label(self) -> str:
        return self._engine.detector_backend

    def dla_layers(self) -> Optional[int]:
        """PeopleNet layers on a DLA core; None off DLA."""
        return self._engine.detector_dla_layers


class ReidTask:
    """Appearance embeddings for PeopleNet's person boxes; results are complete PeopleResults."""

    upstream = PEOPLENET_TASK
    name = REID_TASK

    def __init__(self, engine: PeopleEngine, model: str, cameras: Iterable[str],
                 standin: bool, resource: str = "cpu") -> None:
        if not engine.has_embedder:
            raise ValueError("ReidTask needs a PeopleEngine with a ReID model")
        self._engine = engine
        self.model = model
        self.standin = standin
        self.cameras: FrozenSet[str] = frozenset(cameras)
        self.resource = resource
        self.max_batch = REID_FRAMES_PER_BATCH

    def prepare(self, items: Sequence[WorkItem]) -> Any:
        frames = [item.frame for item in items]
        detections = [_people(item).detections for item in items]
        return self._engine.embed_prepare(frames, detections)

    def run(self, data: Any) -> Any:
        blobs, counts = data
        return self._engine.embed_run(blobs), counts

    def decode(self, items: Sequence[WorkItem], raw: Any) -> List[PeopleResult]:
        parts, counts = raw
        embeddings = self._engine.embed_decode(parts, counts)
        return [PeopleResult(item.frame, _people(item).detections, emb)
                for item, emb in zip(items, embeddings)]

    def skip(self, item: WorkItem) -> PeopleResult:
        """Not due for ReID (planned below PeopleNet's rate, or shed): the detections go on
        without embeddings, so the tracker still steps on every frame (by motion)."""
        return _people(item)

    def backend_label(self) -> str:
        return self._engine.embedder_backend or "none"

    def dla_layers(self) -> Optional[int]:
        """ReID layers on a DLA core; None off DLA."""
        return self._engine.embedder_dla_layers


def _people(item: WorkItem) -> PeopleResult:
    upstream = item.upstream
    if not isinstance(upstream, PeopleResult):
        raise TypeError(f"ReID input for camera {item.frame.camera_id} carries "
                        f"{type(upstream).__name__}, not PeopleNet's result")
    return upstream
