"""PeopleNet (DetectNet_v2, 960x544): preprocessing and grid decoding to frame-space boxes.

Contract (docs: model-contracts.md section 2; engines/models/peoplenet.toml): input
`input_1:0` float32 NCHW [N,3,544,960], RGB, y = x / 255, the frame stretched to 960x544.
Outputs `output_cov/Sigmoid:0` [N,3,34,60] (coverage per class and 16x16 cell) and
`output_bbox/BiasAdd:0` [N,12,34,60] (channel 4c+k, k = x1, y1, x2, y2). For cell (i, j):
cx = 16 i + 0.5, cy = 16 j + 0.5; x1 = cx - 35 o0, y1 = cy - 35 o1, x2 = cx + 35 o2,
y2 = cy + 35 o3; clipped to the network input as the reference of the clustering mode does
(`clip_boxes`), boxes with negative width or height dropped, then scaled by frame_w / 960 and
frame_h / 544. The stride is computed from the grid (ceil(net_w / grid_w)), as nvinfer does,
never hard-coded.

Scores are in [0, 1], as the tracker requires: the NMS confidence is a cell's coverage; the
DBSCAN confidence is TAO's sum of the cluster's coverages, thresholded as TAO does and then
capped at 1 (a kept cluster sums to at least its threshold, 0.9 by default, so the cap only
folds "very sure" into "sure").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from edge_agent.errors import ModelContractError
from edge_agent.models.detect_cluster import dbscan_cluster, nms

NET_WIDTH = 960
NET_HEIGHT = 544
BBOX_NORM = 35.0
CELL_OFFSET = 0.5
LABELS: Tuple[str, ...] = ("person", "bag", "face")
PERSON_CLASS = 0
INPUT_NAME = "input_1:0"
COV_NAME = "output_cov/Sigmoid:0"
BBOX_NAME = "output_bbox/BiasAdd:0"


@dataclass(frozen=True)
class ClusterParams:
    """How candidates become detections; defaults are DeepStream's PeopleNet config.

    thresholds: pre-cluster threshold per class (person, bag, face); in DBSCAN mode they are
    the per-class cluster confidence thresholds and `coverage_threshold` selects candidates.
    """

    mode: str = "nms"
    thresholds: Tuple[float, ...] = (0.4, 0.2, 0.2)
    nms_iou: float = 0.5
    post_threshold: float = 0.0
    top_k: int = 20
    coverage_threshold: float = 0.005
    dbscan_eps: float = 0.3
    dbscan_min_samples: float = 0.05
    min_height_px: float = 4.0
    classes: Tuple[int, ...] = (PERSON_CLASS,)


@dataclass(frozen=True)
class Detections:
    """Boxes of one frame in frame pixels (x1, y1, x2, y2), with scores and class ids."""

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    frame_size: Tuple[int, int] = field(default=(0, 0))

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def of_class(self, class_id: int) -> Detections:
        """Only the detections of one class."""
        keep = self.class_ids == class_id
        return Detections(self.boxes[keep], self.scores[keep], self.class_ids[keep],
                          self.frame_size)


def preprocess(images_bgr: Sequence[np.ndarray]) -> np.ndarray:
    """BGR uint8 frames -> float32 NCHW RGB batch scaled x/255, stretched to 960x544."""
    if not images_bgr:
        raise ValueError("preprocess needs at least one image")
    blob = cv2.dnn.blobFromImages(
        list(images_bgr),
        scalefactor=1.0 / 255.0,
        size=(NET_WIDTH, NET_HEIGHT),
        mean=(0.0, 0.0, 0.0),
        swapRB=True,
        crop=False,
    )
    return np.ascontiguousarray(blob, dtype=np.float32)


def clip_boxes(boxes: np.ndarray, mode: str) -> np.ndarray:
    """Clip network-pixel boxes [K,4] in place as the reference of `mode` does.

    'nms' follows nvinfer's DetectNet parser (DetectPostprocessor::parseBoundingBox): a value
    >= W becomes W - 1, a negative one 0, anything else is left alone (959.6 stays 959.6).
    'dbscan' follows TAO's DetectNet_v2 post-processing and the Triton app: clip to [0, W] x
    [0, H], so a person cut by the right or bottom edge ends at the edge, not 1 px short.
    """
    for cols, limit in (([0, 2], NET_WIDTH), ([1, 3], NET_HEIGHT)):
        values = boxes[:, cols]
        if mode == "dbscan":
            values = np.clip(values, 0.0, float(limit))
        else:
            values = np.where(values >= limit, float(limit - 1), values)
            values = np.maximum(values, 0.0)
        boxes[:, cols] = values
    return boxes


def decode_candidates(
    cov: np.ndarray, bbox: np.ndarray, class_id: int, threshold: float, mode: str = "nms"
) -> Tuple[np.ndarray, np.ndarray]:
    """Grid cells of one class with coverage >= threshold: (boxes [K,4] in net px, cov [K]).

    Boxes are clipped as the reference of clustering `mode` does (clip_boxes); inverted
    boxes are dropped (nvinfer drops them; TAO would keep them, but they cannot be a person
    and a negative area would corrupt every IoU they enter).
    """
    _, grid_h, grid_w = cov.shape
    stride_x = math.ceil(NET_WIDTH / grid_w)
    stride_y = math.ceil(NET_HEIGHT / grid_h)
    plane = cov[class_id]
    rows, cols = np.nonzero(plane >= threshold)
    if rows.size == 0:
        return np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.float32)
    cx = cols.astype(np.float32) * stride_x + CELL_OFFSET
    cy = rows.astype(np.float32) * stride_y + CELL_OFFSET
    o = bbox[4 * class_id : 4 * class_id + 4, rows, cols]  # [4, K]
    boxes = np.stack(
        [cx - BBOX_NORM * o[0], cy - BBOX_NORM * o[1], cx + BBOX_NORM * o[2],
         cy + BBOX_NORM * o[3]],
        axis=1,
    )
    clip_boxes(boxes, mode)
    keep = (boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1])
    return boxes[keep].astype(np.float32), plane[rows, cols][keep].astype(np.float32)


def decode_frame(
    cov: np.ndarray, bbox: np.ndarray, frame_size: Tuple[int, int], params: ClusterParams
) -> Detections:
    """Decode and cluster one frame's outputs ([C,34,60], [4C,34,60]) into frame boxes."""
    all_boxes: List[np.ndarray] = []
    all_scores: List[np.ndarray] = []
    all_ids: List[np.ndarray] = []
    for class_id in params.classes:
        threshold = params.thresholds[class_id]
        if params.mode == "dbscan":
            boxes, scores = decode_candidates(cov, bbox, class_id, params.coverage_threshold,
                                              "dbscan")
            boxes, scores = dbscan_cluster(
                boxes, scores, params.dbscan_eps, params.dbscan_min_samples, threshold,
                params.min_height_px,
            )
            scores = np.minimum(scores, 1.0)
        else:
            boxes, scores = decode_candidates(cov, bbox, class_id, threshold, "nms")
            keep = nms(boxes, scores, params.nms_iou, params.post_threshold, params.top_k)
            boxes, scores = boxes[keep], scores[keep]
        all_boxes.append(boxes)
        all_scores.append(scores)
        all_ids.append(np.full(len(scores), class_id, dtype=np.int64))
    boxes = np.concatenate(all_boxes) if all_boxes else np.zeros((0, 4), np.float32)
    width, height = frame_size
    scale = np.array(
        [width / NET_WIDTH, height / NET_HEIGHT, width / NET_WIDTH, height / NET_HEIGHT],
        dtype=np.float32,
    )
    return Detections(
        (boxes * scale).astype(np.float32),
        np.concatenate(all_scores) if all_scores else np.zeros(0, np.float32),
        np.concatenate(all_ids) if all_ids else np.zeros(0, np.int64),
        (int(width), int(height)),
    )


def decode_batch(
    cov: np.ndarray,
    bbox: np.ndarray,
    frame_sizes: Sequence[Tuple[int, int]],
    params: ClusterParams,
) -> List[Detections]:
    """Decode a batch: one Detections per frame, in order."""
    if cov.ndim != 4 or bbox.ndim != 4 or bbox.shape[1] != 4 * cov.shape[1]:
        raise ModelContractError(
            f"PeopleNet outputs have shapes {cov.shape} and {bbox.shape}; expected "
            "[N,C,34,60] and [N,4C,34,60]",
            "use a PeopleNet (DetectNet_v2) model or its stand-in",
        )
    if cov.shape[0] != len(frame_sizes):
        raise ModelContractError(
            f"PeopleNet returned {cov.shape[0]} results for a batch of {len(frame_sizes)}",
            "the engine's batch dimension does not match its manifest; rebuild it",
        )
    if max(params.classes, default=0) >= cov.shape[1]:
        raise ModelContractError(
            f"PeopleNet has {cov.shape[1]} classes, config asks for {params.classes}",
            "use the 3-class PeopleNet (person, bag, face)",
        )
    return [decode_frame(cov[i], bbox[i], size, params) for i, size in enumerate(frame_sizes)]
