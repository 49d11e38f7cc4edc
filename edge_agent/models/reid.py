"""ReIdentificationNet (ResNet50, 256x128): person crops in, L2-normalised embeddings out.

Contract (docs: model-contracts.md section 3; engines/models/reidentificationnet.toml):
input `input` float32 NCHW [N,3,256,128]; each crop stretched (no aspect keeping) to 128 wide
by 256 high, RGB, y = (x/255 - mean[c]) / 0.226 with mean = (0.485, 0.456, 0.406). Output
`fc_pred` [N,256] is the BN-neck feature and is *not* normalised in the graph, so it is
L2-normalised here before any cosine matching.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import cv2
import numpy as np

from edge_agent.errors import ModelContractError

CROP_WIDTH = 128
CROP_HEIGHT = 256
MEAN_RGB = (0.485, 0.456, 0.406)
STD = 0.226
INPUT_NAME = "input"
OUTPUT_NAME = "fc_pred"
_NORM_EPS = 1e-12


def crop_boxes(
    image_bgr: np.ndarray, boxes: np.ndarray
) -> List[np.ndarray]:
    """Pixel crops of `boxes` [K,4] (frame px), clipped to the frame, at least 1x1 each."""
    height, width = image_bgr.shape[:2]
    crops = []
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        left = int(min(max(np.floor(x1), 0), width - 1))
        top = int(min(max(np.floor(y1), 0), height - 1))
        right = int(min(max(np.ceil(x2), left + 1), width))
        bottom = int(min(max(np.ceil(y2), top + 1), height))
        crops.append(image_bgr[top:bottom, left:right])
    return crops


def preprocess_crops(crops_bgr: Sequence[np.ndarray]) -> np.ndarray:
    """BGR crops -> float32 [K,3,256,128] RGB, (x/255 - mean) / 0.226.

    One native pass (cv2.dnn.blobFromImages): resize, swap to RGB, subtract mean*255 given in
    R, G, B order, scale by 1/(0.226*255).
    """
    if not crops_bgr:
        return np.zeros((0, 3, CROP_HEIGHT, CROP_WIDTH), dtype=np.float32)
    blob = cv2.dnn.blobFromImages(
        list(crops_bgr),
        scalefactor=1.0 / (STD * 255.0),
        size=(CROP_WIDTH, CROP_HEIGHT),
        mean=tuple(m * 255.0 for m in MEAN_RGB),
        swapRB=True,
        crop=False,
    )
    return np.ascontiguousarray(blob, dtype=np.float32)


def l2_normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); an all-zero row stays zero."""
    features = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    normalised: np.ndarray = features / np.maximum(norms, _NORM_EPS)
    return normalised


def check_embeddings(raw: np.ndarray, count: int, expected_dim: int) -> np.ndarray:
    """Validate `fc_pred` of a batch of `count` crops and normalise it."""
    if raw.ndim != 2 or raw.shape[0] != count:
        raise ModelContractError(
            f"ReIdentificationNet returned shape {raw.shape} for {count} crops; expected "
            f"[{count},{expected_dim}]",
            "use a ReIdentificationNet deployable ONNX or its stand-in",
        )
    if raw.shape[1] != expected_dim:
        raise ModelContractError(
            f"ReIdentificationNet returns {raw.shape[1]}-d embeddings, config expects "
            f"{expected_dim}",
            "set models.tracking.embedding_size to the model's output size",
        )
    return l2_normalise(raw)


def split_counts(values: np.ndarray, counts: Sequence[int]) -> List[np.ndarray]:
    """Cut a stacked [sum(counts), D] array back into per-frame pieces."""
    bounds: List[Tuple[int, int]] = []
    start = 0
    for count in counts:
        bounds.append((start, start + count))
        start += count
    return [values[a:b] for a, b in bounds]
