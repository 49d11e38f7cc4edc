"""PoseClassificationNet (ST-GCN): skeleton sequences in, one action class per sequence out.

Contract (docs: model-contracts.md section 5; engines/models/poseclassificationnet.toml):
`input` float32 (N, 3, 300, V, 1), built by pose.normalise; `fc_pred` (N, classes) logits.
The DeepStream parser takes the softmax and accepts the best class only if its probability
exceeds 0.51 (`classifier-threshold`); the labels come from the model's manifest, so a
retrained model with other classes needs a manifest, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from edge_agent.errors import ModelContractError

INPUT_NAME = "input"
OUTPUT_NAME = "fc_pred"
ACCEPT_THRESHOLD = 0.51


def check_label_count(output_size: int, labels: Sequence[str], model: str) -> None:
    """Refuse a classifier whose output size is not the number of labels (at start-up)."""
    if output_size != len(labels):
        raise ModelContractError(
            f"pose classifier {model} outputs {output_size} classes but its label list has "
            f"{len(labels)} ({', '.join(labels)})",
            "give the model a manifest whose `labels` list one name per output, in order",
        )


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits (float64 result)."""
    values = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    result: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


@dataclass(frozen=True)
class PosePrediction:
    """One sequence's result: `label` None when no class passes the threshold."""

    label: Optional[str]
    index: int
    probability: float
    probabilities: np.ndarray


def predict(
    raw: np.ndarray,
    count: int,
    labels: Sequence[str],
    threshold: float = ACCEPT_THRESHOLD,
    model: str = "poseclassificationnet",
) -> List[PosePrediction]:
    """Decode `fc_pred` of `count` sequences; shape errors name both shapes."""
    logits = np.asarray(raw)
    if logits.ndim != 2 or logits.shape[0] != count:
        raise ModelContractError(
            f"pose classifier returned shape {logits.shape} for {count} sequences; "
            f"expected [{count},{len(labels)}]",
            "use a PoseClassificationNet ONNX whose output is `fc_pred` (N, classes)",
        )
    check_label_count(int(logits.shape[1]), labels, model)
    probs = softmax(logits)
    results = []
    for row in probs:
        best = int(np.argmax(row))
        probability = float(row[best])
        label = labels[best] if probability > threshold else None
        results.append(PosePrediction(label, best, probability, row.astype(np.float32)))
    return results
