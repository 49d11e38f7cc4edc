"""The accuracy gate: does the INT8 model still give the FP32 model's answers on unseen frames?

Each family is judged by what its consumers use, not by raw tensor error:
segmentation by the IoU of the person masks (occupancy and coverage come from them), PeopleNet
by precision and recall of the INT8 boxes against the FP32 boxes matched at IoU 0.5 (what the
tracker sees), ReID by the cosine of the L2-normalised embeddings and by whether each crop's
nearest neighbour stays the same (what re-identification decides), pose classification by the
share of sequences whose class is unchanged. FP32 is the reference: the gate measures what
quantization changed, not how good the model is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import linear_sum_assignment

from edge_agent.models import peoplenet, reid, semseg

MATCH_IOU = 0.5


class GateThresholds(BaseModel):
    """Lowest acceptable agreement per metric (0..1); a recipe or the command may change them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mask_iou: float = Field(0.95, ge=0.0, le=1.0, description="mean person-mask IoU")
    mask_iou_worst: float = Field(0.80, ge=0.0, le=1.0, description="worst frame's mask IoU")
    box_precision: float = Field(0.95, ge=0.0, le=1.0)
    box_recall: float = Field(0.95, ge=0.0, le=1.0)
    embedding_cosine: float = Field(0.98, ge=0.0, le=1.0, description="mean cosine")
    rank1_agreement: float = Field(0.95, ge=0.0, le=1.0)
    class_agreement: float = Field(0.95, ge=0.0, le=1.0)


@dataclass(frozen=True)
class Figure:
    """One gated number: its value, its threshold, and the per-sample values behind it."""

    name: str
    value: float
    threshold: float
    per_sample: Tuple[float, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True when the value reaches the threshold."""
        return self.value >= self.threshold


@dataclass(frozen=True)
class GateResult:
    """All figures of one calibration and the verdict."""

    family: str
    samples: int
    figures: Tuple[Figure, ...]

    @property
    def passed(self) -> bool:
        """True only when every figure passes."""
        return all(f.passed for f in self.figures)

    def failures(self) -> List[str]:
        """'name value < threshold' for each failing figure."""
        return [f"{f.name} {f.value:.4f} < {f.threshold:.4f}" for f in self.figures
                if not f.passed]

    def as_dict(self) -> Dict[str, object]:
        """JSON-friendly summary (figures without per-sample values)."""
        return {"family": self.family, "samples": self.samples, "passed": self.passed,
                "figures": {f.name: {"value": round(f.value, 6), "threshold": f.threshold,
                                     "passed": f.passed} for f in self.figures}}


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks; two empty masks agree perfectly."""
    union = int(np.count_nonzero(a | b))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(a & b)) / union


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of [K,4] and [M,4] boxes (x1, y1, x2, y2)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def matched_boxes(reference: np.ndarray, candidate: np.ndarray, iou: float = MATCH_IOU) -> int:
    """Size of the best one-to-one matching with IoU >= `iou` (Hungarian on IoU)."""
    overlap = box_iou_matrix(reference, candidate)
    if overlap.size == 0:
        return 0
    rows, cols = linear_sum_assignment(-overlap)
    return int(np.count_nonzero(overlap[rows, cols] >= iou))


def judge_masks(fp32: Sequence[np.ndarray], int8: Sequence[np.ndarray],
                limits: GateThresholds) -> GateResult:
    """Segmentation: argmax_1 outputs ([1,H,W,1]) of FP32 and INT8 per held-out frame."""
    ious = tuple(
        mask_iou(semseg.person_mask(semseg.decode_class_maps(a)[0]),
                 semseg.person_mask(semseg.decode_class_maps(b)[0]))
        for a, b in zip(fp32, int8))
    return GateResult("semseg", len(ious), (
        Figure("mask_iou", float(np.mean(ious)), limits.mask_iou, ious),
        Figure("mask_iou_worst", float(np.min(ious)), limits.mask_iou_worst, ious)))


def judge_boxes(fp32: Sequence[peoplenet.Detections], int8: Sequence[peoplenet.Detections],
                limits: GateThresholds) -> GateResult:
    """PeopleNet: INT8 person boxes against FP32 person boxes, matched at IoU 0.5."""
    matched = found = reference = 0
    per_frame: List[float] = []
    for a, b in zip(fp32, int8):
        ref = a.of_class(peoplenet.PERSON_CLASS).boxes
        cand = b.of_class(peoplenet.PERSON_CLASS).boxes
        hits = matched_boxes(ref, cand)
        matched, found, reference = matched + hits, found + len(cand), reference + len(ref)
        per_frame.append(1.0 if max(len(ref), len(cand)) == 0
                         else 2.0 * hits / (len(ref) + len(cand)))
    precision = matched / found if found else (1.0 if reference == 0 else 0.0)
    recall = matched / reference if reference else (1.0 if found == 0 else 0.0)
    return GateResult("peoplenet", len(per_frame), (
        Figure("box_precision", precision, limits.box_precision, tuple(per_frame)),
        Figure("box_recall", recall, limits.box_recall, tuple(per_frame))))


def judge_embeddings(fp32: np.ndarray, int8: np.ndarray, limits: GateThresholds) -> GateResult:
    """ReID: cosine per crop and rank-1 agreement (nearest other crop unchanged)."""
    a = reid.l2_normalise(fp32)
    b = reid.l2_normalise(int8)
    cosines = tuple(float(c) for c in np.sum(a * b, axis=1))
    figures = [Figure("embedding_cosine", float(np.mean(cosines)), limits.embedding_cosine,
                      cosines)]
    if len(a) >= 2:
        sim_a, sim_b = a @ a.T, b @ b.T
        np.fill_diagonal(sim_a, -np.inf)
        np.fill_diagonal(sim_b, -np.inf)
        same = np.argmax(sim_a, axis=1) == np.argmax(sim_b, axis=1)
        figures.append(Figure("rank1_agreement", float(np.mean(same)), limits.rank1_agreement,
                              tuple(float(s) for s in same)))
    return GateResult("reid", len(cosines), tuple(figures))


def judge_classes(fp32: np.ndarray, int8: np.ndarray, limits: GateThresholds) -> GateResult:
    """Pose classification: share of inputs whose arg-max class is unchanged."""
    same = np.argmax(fp32, axis=1) == np.argmax(int8, axis=1)
    return GateResult("poseclass", len(same), (
        Figure("class_agreement", float(np.mean(same)), limits.class_agreement,
               tuple(float(s) for s in same)),))
