"""Clustering of DetectNet_v2 grid candidates: DeepStream's NMS and TAO's DBSCAN.

PeopleNet predicts one box per 16x16 grid cell, so one person yields a dozen overlapping
candidates; clustering reduces them to one box. Both reference algorithms are restated from
the contract (docs: model-contracts.md section 2, "Clustering"):

* NMS (nvinfer cluster-mode=2): stable sort by confidence, greedily keep a box whose IoU with
  every kept box is <= the threshold (IoU = inter / (a1 + a2 - inter), no +1 pixel), then
  keep those above the post-cluster threshold, then the top k.
* DBSCAN (TAO cluster.py, metric 'precomputed'): distance = 1 - IoU (IoU regularised with
  +1e-5), sample weight = coverage, min_samples = max(int(x), 1); a cluster's box is the
  coverage-weighted mean of its members and its confidence the *sum* of their coverages.

DBSCAN is written out here (about 30 lines) rather than pulling scikit-learn onto a Jetson.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

_DBSCAN_IOU_EPS = 1e-5


def iou_matrix(a: np.ndarray, b: np.ndarray, regulariser: float = 0.0) -> np.ndarray:
    """IoU of every box in `a` [N,4] with every box in `b` [M,4] (x1, y1, x2, y2)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0.0, None) * np.clip(iy2 - iy1, 0.0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter + regulariser
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(union > 0.0, inter / union, 0.0)
    return out


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    post_threshold: float,
    top_k: int,
) -> np.ndarray:
    """Indices of the boxes nvinfer's NMS keeps, best first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    ious = iou_matrix(boxes, boxes)
    kept: List[int] = []
    for index in order:
        if all(ious[index, k] <= iou_threshold for k in kept):
            kept.append(int(index))
    result = [k for k in kept if scores[k] > post_threshold]
    if top_k > 0:
        result = result[:top_k]
    return np.asarray(result, dtype=np.int64)


def dbscan_labels(
    distances: np.ndarray, weights: np.ndarray, eps: float, min_samples: float
) -> np.ndarray:
    """Cluster label per point (-1 = noise), as sklearn's DBSCAN with a precomputed metric.

    A point is a core point when the summed weight of its eps-neighbourhood (itself
    included, distance <= eps) reaches min_samples; clusters grow from core points in index
    order and take in the border points they reach.
    """
    count = len(weights)
    neighbours = distances <= eps
    core = (neighbours * weights[None, :]).sum(axis=1) >= min_samples
    labels = np.full(count, -1, dtype=np.int64)
    cluster = 0
    for seed in range(count):
        if labels[seed] != -1 or not core[seed]:
            continue
        labels[seed] = cluster
        stack = [seed]
        while stack:
            point = stack.pop()
            if not core[point]:
                continue
            for other in np.flatnonzero(neighbours[point]):
                if labels[other] == -1:
                    labels[other] = cluster
                    stack.append(int(other))
        cluster += 1
    return labels


def dbscan_cluster(
    boxes: np.ndarray,
    coverages: np.ndarray,
    eps: float,
    min_samples: float,
    confidence_threshold: float,
    min_height_px: float,
) -> Tuple[np.ndarray, np.ndarray]:
    """TAO DetectNet_v2 DBSCAN: (boxes [K,4], confidences [K]) of the clusters kept."""
    if len(boxes) == 0:
        return np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.float32)
    distances = 1.0 - iou_matrix(boxes, boxes, regulariser=_DBSCAN_IOU_EPS)
    labels = dbscan_labels(distances, coverages, eps, max(float(int(min_samples)), 1.0))
    out_boxes: List[np.ndarray] = []
    out_scores: List[float] = []
    for label in range(int(labels.max()) + 1 if len(labels) else 0):
        members = labels == label
        weight = coverages[members]
        total = float(weight.sum())
        if total <= 0.0:
            continue
        box = (boxes[members] * weight[:, None]).sum(axis=0) / total
        if total > confidence_threshold and (box[3] - box[1]) > min_height_px:
            out_boxes.append(box)
            out_scores.append(total)
    if not out_boxes:
        return np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.float32)
    return np.asarray(out_boxes, dtype=np.float32), np.asarray(out_scores, dtype=np.float32)
