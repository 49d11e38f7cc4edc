"""Accuracy of a pose classifier as the model card reports it, plus its confusion matrix.

The card's KPIs: per-class accuracy (correct / labelled, per class), total accuracy
(correct / all) and the average of the class accuracies; the prediction is the arg-max class,
without the deployment threshold (sequences the threshold would reject are counted apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

import numpy as np

from edge_agent.errors import ConfigError
from edge_agent.pose.poseclass import softmax


@dataclass(frozen=True)
class PoseClassScores:
    """confusion[i, j]: sequences labelled class i and predicted class j."""

    classes: List[str]
    confusion: np.ndarray
    below_threshold: int

    @property
    def count(self) -> int:
        return int(self.confusion.sum())

    @property
    def total_accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(self.count, 1))

    def class_accuracy(self) -> Dict[str, float]:
        """Per class with at least one labelled sequence."""
        rows = self.confusion.sum(axis=1)
        return {
            name: float(self.confusion[i, i] / rows[i])
            for i, name in enumerate(self.classes)
            if rows[i] > 0
        }

    @property
    def average_class_accuracy(self) -> float:
        values = list(self.class_accuracy().values())
        return float(np.mean(values)) if values else 0.0

    def as_dict(self) -> Dict[str, Any]:
        result: Dict[str, Any] = {
            "sequences": self.count,
            "total_accuracy": self.total_accuracy,
            "average_class_accuracy": self.average_class_accuracy,
            "below_threshold": self.below_threshold,
        }
        for name, value in self.class_accuracy().items():
            result[f"accuracy_{name}"] = value
        result["confusion"] = self.confusion.tolist()
        result["classes"] = list(self.classes)
        return result


def score(
    logits: np.ndarray, labels: Sequence[int], classes: Sequence[str], threshold: float
) -> PoseClassScores:
    """Scores of `logits` [N,K] against integer `labels` [N] (0..K-1)."""
    truth = np.asarray(labels, dtype=np.int64)
    bad = truth[(truth < 0) | (truth >= len(classes))]
    if bad.size:
        raise ConfigError(
            f"labels contain class id {int(bad[0])}, but the model has {len(classes)} classes "
            f"(0..{len(classes) - 1})",
            "use the label file that belongs to this model's class list",
        )
    probs = softmax(logits)
    predicted = probs.argmax(axis=1)
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    below = int((probs.max(axis=1) <= threshold).sum())
    return PoseClassScores(list(classes), confusion, below)
