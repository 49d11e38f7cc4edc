"""SegIC as a task: camera frames in, one mask per active prompt out; low rate, low priority.

A *source* task on the cameras its prompts name. One target image per run (the model's images
input has batch 1), and one segic call per prompt on that image with the prompt's examples on
the P axis. The prompt set is snapshotted at prepare time, so a prompt added or removed
meanwhile never changes a frame half-way.

For the scheduler: `rate_hz` is the configured SegIC rate per camera and `priority` is
`PRIORITY_LOW` (run only when the people models have had their turn); `calls_for(camera)` says
how many model calls a frame of that camera costs (one per prompt).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, FrozenSet, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from edge_agent.frames import Frame
from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.serving import serving_backend
from edge_agent.runtime.task import WorkItem
from edge_agent.segic.decode import PromptMask, decode_prompt
from edge_agent.segic.letterbox import Letterbox, letterbox_for, preprocess_image
from edge_agent.segic.store import ActivePrompt, PromptStore

SEGIC_TASK = "segic"
PRIORITY_LOW = "low"
MASKS_OUTPUT = "masks_pred"


@dataclass(frozen=True)
class SegicFrameResult:
    """Every active prompt's mask for one frame."""

    frame: Frame
    masks: Tuple[PromptMask, ...]


@dataclass(frozen=True)
class _PreparedFrame:
    image: np.ndarray
    box: Letterbox
    prompts: Tuple[ActivePrompt, ...]


@dataclass(frozen=True)
class _RawPrompt:
    prompt_id: str
    logits: np.ndarray
    run_ms: float


class SegicTask:
    """Implements the runtime's Task protocol for SegIC."""

    upstream: Optional[str] = None
    name = SEGIC_TASK
    max_batch = 1
    priority = PRIORITY_LOW

    def __init__(self, backend: InferenceBackend, store: PromptStore, model: str,
                 standin: bool, rate_hz: float, resource: str = "gpu") -> None:
        self._backend = backend
        self._store = store
        self.model = model
        self.standin = standin
        self.rate_hz = rate_hz
        self.resource = resource

    @property
    def cameras(self) -> FrozenSet[str]:
        """Cameras named by at least one active prompt."""
        return self._store.cameras()

    def calls_for(self, camera_id: str) -> int:
        """Model calls one frame of `camera_id` costs now (one per prompt on it)."""
        return len(self._store.for_camera(camera_id))

    def prepare(self, items: Sequence[WorkItem]) -> List[_PreparedFrame]:
        """Letterbox each frame (RGB, 896, pad 128) and snapshot its camera's prompts."""
        out = []
        for item in items:
            rgb = cv2.cvtColor(item.frame.pixels, cv2.COLOR_BGR2RGB)
            image, box = preprocess_image(rgb)
            out.append(_PreparedFrame(image, box, self._store.for_camera(item.frame.camera_id)))
        return out

    def run(self, data: Any) -> List[List[_RawPrompt]]:
        """One segic call per (frame, prompt); raw logits and each call's time."""
        prepared: List[_PreparedFrame] = data
        out: List[List[_RawPrompt]] = []
        for frame in prepared:
            raws = []
            for active in frame.prompts:
                start = time.perf_counter()
                result = self._backend.run({
                    "images": frame.image,
                    "ori_sizes": frame.box.ori_sizes,
                    "input_prompts": active.features.input_prompts,
                    "inst_feats": active.features.inst_feats,
                })
                raws.append(_RawPrompt(active.prompt_id, result[MASKS_OUTPUT],
                                       (time.perf_counter() - start) * 1000.0))
            out.append(raws)
        return out

    def decode(self, items: Sequence[WorkItem], raw: Any) -> List[SegicFrameResult]:
        """Per frame: each prompt's largest example mask at frame size, with its score."""
        raws: List[List[_RawPrompt]] = raw
        results = []
        for item, frame_raws in zip(items, raws):
            height, width = item.frame.pixels.shape[:2]
            box = letterbox_for(height, width)
            results.append(SegicFrameResult(item.frame, tuple(
                decode_prompt(r.prompt_id, r.logits, box, r.run_ms) for r in frame_raws)))
        return results

    def backend_label(self) -> str:
        """Backend serving the model now."""
        return serving_backend(self._backend)

