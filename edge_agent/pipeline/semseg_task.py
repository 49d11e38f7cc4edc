"""PeopleSemSegNet as a task: camera frames in, one decoded class map per frame out."""

from __future__ import annotations

from typing import Any, FrozenSet, Iterable, List, Optional, Sequence

from edge_agent.models import semseg
from edge_agent.pipeline.semseg_engine import PreparedBatch, SemSegEngine
from edge_agent.runtime.task import WorkItem

SEMSEG_TASK = "semseg"
SEMSEG_STAGES = ("preprocess", "inference", "decode")


class SemsegTask:
    """Borrows a SemSegEngine from the registry; the executor calls prepare/run/decode."""

    upstream = None
    name = SEMSEG_TASK

    def __init__(self, engine: SemSegEngine, cameras: Iterable[str], resource: str = "cpu",
                 max_batch: int = 0) -> None:
        self._engine = engine
        self.cameras: FrozenSet[str] = frozenset(cameras)
        self.resource = resource
        limit = engine.max_batch or max(1, len(self.cameras))
        self.max_batch = max(1, min(limit, max_batch) if max_batch > 0 else limit)

    @property
    def model(self) -> str:
        """The engine's manifest name."""
        return self._engine.model_name

    @property
    def standin(self) -> bool:
        """True for a generated stand-in model."""
        return self._engine.standin

    def prepare(self, items: Sequence[WorkItem]) -> PreparedBatch:
        """BGR frames to the network's input blob (off the resource's thread)."""
        return self._engine.prepare([item.frame for item in items])

    def run(self, data: Any) -> Any:
        """The model call: raw `argmax_1`."""
        return self._engine.run_raw(data)

    def decode(self, items: Sequence[WorkItem], raw: Any) -> List[semseg.SegOutput]:
        """Class maps per frame, at network resolution, with the frame size."""
        return self._engine.decode_raw(raw, [item.frame for item in items])

    def backend_label(self) -> str:
        """Backend serving the model now."""
        return self._engine.backend

    def dla_layers(self) -> Optional[int]:
        """Layers TensorRT placed on a DLA core; None off DLA."""
        return self._engine.dla_layers
