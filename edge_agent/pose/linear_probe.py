"""A small classifier *trained* on labelled skeleton arrays, saved with the real model's contract.

Its purpose is to show that a trained PoseClassificationNet swaps in with no code change: it
is an ONNX file with the same input (`input` (N,3,300,34,1)) and output (`fc_pred` (N,6)
logits), installed in the models folder with a sidecar like any downloaded model, and the same
`edge-agent eval poseclass` then reports what it learnt where the untrained stand-in is at
chance.

Model: per joint and coordinate, the mean over the first and the second half of the window
and the standard deviation over the whole window (306 features for 34 joints), standardised,
then a linear layer fitted by multinomial logistic regression (plain gradient descent, L2).
Nothing here is meant as a production classifier.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence, Tuple

import numpy as np
import onnx

from edge_agent.models.manifest import SIDECAR_SUFFIX, load_manifest
from edge_agent.models.standin.graph import GraphBuilder
from edge_agent.models.tensor_spec import TensorSpec
from edge_agent.pose.poseclass import INPUT_NAME, OUTPUT_NAME, softmax

_EPS = 1e-6


def window_bounds(method: str, window_frames: int, frames: int = 300) -> Tuple[int, int, int]:
    """(start, middle, end) frames of the data window inside the 300-frame tensor."""
    if method == "deepstream_app":
        return frames - window_frames, frames - window_frames // 2, frames
    return 0, window_frames // 2, window_frames


def features(data: np.ndarray, bounds: Tuple[int, int, int]) -> np.ndarray:
    """[N, 9V] features of (N,3,T,V,1) data, exactly as the exported graph computes them."""
    start, middle, end = bounds
    x = data[..., 0].astype(np.float64)
    first = x[:, :, start:middle].mean(axis=2)
    second = x[:, :, middle:end].mean(axis=2)
    whole = x[:, :, start:end]
    spread = np.sqrt(np.maximum((whole**2).mean(axis=2) - whole.mean(axis=2) ** 2, 0.0) + _EPS)
    count = data.shape[0]
    return np.concatenate(
        [first.reshape(count, -1), second.reshape(count, -1), spread.reshape(count, -1)], axis=1
    )


def fit(
    data: np.ndarray, labels: Sequence[int], classes: int, bounds: Tuple[int, int, int],
    steps: int = 400, learning_rate: float = 0.5, l2: float = 1e-3,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mean, std, weights, bias) of the standardised logistic regression."""
    feats = features(data, bounds)
    mean, std = feats.mean(axis=0), feats.std(axis=0) + _EPS
    z = (feats - mean) / std
    onehot = np.eye(classes)[np.asarray(labels)]
    weights = np.zeros((z.shape[1], classes))
    bias = np.zeros(classes)
    for _ in range(steps):
        error = softmax(z @ weights + bias) - onehot
        weights -= learning_rate * (z.T @ error / len(z) + l2 * weights)
        bias -= learning_rate * error.mean(axis=0)
    return mean, std, weights, bias


def export(
    mean: np.ndarray, std: np.ndarray, weights: np.ndarray, bias: np.ndarray,
    bounds: Tuple[int, int, int], joints: int = 34,
) -> onnx.ModelProto:
    """ONNX graph with PoseClassificationNet's tensor names, dims and dynamic batch."""
    start, middle, end = bounds
    g = GraphBuilder("probe")

    def time_slice(lo: int, hi: int) -> str:
        return g.op("Slice", [INPUT_NAME, g.i64([lo]), g.i64([hi]), g.i64([2])])

    def flat(x: str) -> str:
        return g.op("Flatten", [x], axis=1)

    first = g.op("ReduceMean", [time_slice(start, middle)], axes=[2], keepdims=0)
    second = g.op("ReduceMean", [time_slice(middle, end)], axes=[2], keepdims=0)
    whole = time_slice(start, end)
    mean_sq = g.op("ReduceMean", [g.op("Mul", [whole, whole])], axes=[2], keepdims=0)
    mean_w = g.op("ReduceMean", [whole], axes=[2], keepdims=0)
    variance = g.op("Relu", [g.op("Sub", [mean_sq, g.op("Mul", [mean_w, mean_w])])])
    spread = g.op("Sqrt", [g.op("Add", [variance, g.f32(_EPS)])])
    feats = g.op("Concat", [flat(first), flat(second), flat(spread)], axis=1)
    z = g.op("Div", [g.op("Sub", [feats, g.f32(mean)]), g.f32(std)])
    g.op("Add", [g.op("MatMul", [z, g.f32(weights)]), g.f32(bias)], output=OUTPUT_NAME)
    classes = int(weights.shape[1])
    return g.model(
        "poseclass_probe",
        [TensorSpec(INPUT_NAME, ("float32",), ("N", 3, 300, joints, 1))],
        [TensorSpec(OUTPUT_NAME, ("float32",), ("N", classes))],
        "Linear probe on skeleton statistics with PoseClassificationNet's contract.",
    )


def install(model: onnx.ModelProto, models_dir: Path, name: str = "poseclassificationnet") -> Path:
    """Write `<name>.onnx` and a sidecar (manifest data, its sha256, standin false)."""
    data = model.SerializeToString()
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{name}.onnx"
    path.write_bytes(data)
    sidecar = load_manifest("poseclassificationnet").model_dump(mode="json")
    sidecar.update(
        name=name,
        title="Linear probe trained on synthetic skeletons (PoseClassificationNet contract)",
        sha256=hashlib.sha256(data).hexdigest(),
        standin=False,
    )
    (models_dir / f"{name}{SIDECAR_SUFFIX}").write_text(
        json.dumps(sidecar, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return path
