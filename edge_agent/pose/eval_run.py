"""The work behind `edge-agent eval poseclass`: load, classify in batches, score, render."""

from __future__ import annotations

import argparse
from typing import Any, Dict, List

import numpy as np

from edge_agent.errors import ModelContractError
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.store import load_model_record
from edge_agent.pose.confusion_png import write_confusion_png
from edge_agent.pose.eval_metrics import score
from edge_agent.pose.poseclass import INPUT_NAME, OUTPUT_NAME, check_label_count
from edge_agent.pose.synthetic_dataset import (
    read_card_format,
    synthetic_dataset,
    write_card_format,
)


def classify(backend: OnnxRuntimeBackend, data: np.ndarray, batch: int) -> np.ndarray:
    """Logits [N,K] of (N,3,300,V,1) data, `batch` sequences per call."""
    parts: List[np.ndarray] = []
    for start in range(0, data.shape[0], batch):
        chunk = np.ascontiguousarray(data[start : start + batch], dtype=np.float32)
        parts.append(backend.run({INPUT_NAME: chunk})[OUTPUT_NAME])
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def evaluate_poseclass(args: argparse.Namespace) -> Dict[str, Any]:
    """Scores of the model in args.models_dir on args' data; writes args.png if given."""
    record = load_model_record(args.models_dir, args.model)
    labels_of_model = list(record.manifest.labels)
    backend = OnnxRuntimeBackend(record.onnx_path, [])
    try:
        output = backend.outputs[0]
        size = output.shape[-1]
        if isinstance(size, int):  # refuse a wrong head before running anything
            check_label_count(size, labels_of_model, record.name)
        if args.data is not None:
            data, _, labels = read_card_format(args.data, args.labels)
        else:
            data, names, labels = synthetic_dataset(
                args.synthetic, args.seed, args.normalisation, args.layout
            )
            if args.save_synthetic is not None:
                write_card_format(args.save_synthetic, data, names, labels)
        expected_joints = backend.inputs[0].shape[3]
        if isinstance(expected_joints, int) and data.shape[3] != expected_joints:
            raise ModelContractError(
                f"the data has {data.shape[3]} joints per frame but {record.name} expects "
                f"{expected_joints}",
                "evaluate with data of the model's graph layout (--layout)",
            )
        logits = classify(backend, data, args.batch)
    finally:
        backend.close()
    check_label_count(int(logits.shape[1]), labels_of_model, record.name)
    scores = score(logits, labels, labels_of_model, args.threshold)
    if args.png is not None:
        title = f"{record.name}{' (stand-in)' if record.standin else ''}: " \
                f"{scores.total_accuracy:.1%} of {scores.count}"
        write_confusion_png(args.png, scores.confusion, labels_of_model, title)
    result = scores.as_dict()
    result["standin"] = record.standin
    return result
