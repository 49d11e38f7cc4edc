"""The confusion matrix as a picture: a heat map with counts, written as PNG with OpenCV.

OpenCV is already a dependency (matplotlib is not), and a grid of labelled squares is all a
reader needs to see which classes a model mixes up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from edge_agent.errors import InputNotFoundError

_CELL_PX = 70
_LABEL_PX = 150
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def render_confusion(confusion: np.ndarray, classes: Sequence[str], title: str) -> np.ndarray:
    """BGR image of the matrix; rows are true classes, columns predicted, shade = row share."""
    count = len(classes)
    width = _LABEL_PX + count * _CELL_PX + 20
    height = 60 + count * _CELL_PX + _LABEL_PX
    image = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(image, title, (10, 30), _FONT, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    rows = confusion.sum(axis=1, keepdims=True).astype(np.float64)
    share = confusion / np.maximum(rows, 1.0)
    top = 50
    for i in range(count):
        for j in range(count):
            x0, y0 = _LABEL_PX + j * _CELL_PX, top + i * _CELL_PX
            level = int(255 - 155 * share[i, j])  # never darker than 100: counts stay legible
            colour = (level, level, 255) if i != j else (level, 255, level)
            cv2.rectangle(image, (x0, y0), (x0 + _CELL_PX, y0 + _CELL_PX), colour, -1)
            cv2.rectangle(image, (x0, y0), (x0 + _CELL_PX, y0 + _CELL_PX), (160, 160, 160), 1)
            text = str(int(confusion[i, j]))
            cv2.putText(image, text, (x0 + 8, y0 + _CELL_PX // 2 + 6), _FONT, 0.55,
                        (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(image, classes[i][:14], (5, top + i * _CELL_PX + _CELL_PX // 2 + 5), _FONT,
                    0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for j, name in enumerate(classes):  # predicted-class names, rotated to read upwards
        strip = np.full((_CELL_PX, _LABEL_PX - 10, 3), 255, np.uint8)
        cv2.putText(strip, name[:16], (5, _CELL_PX // 2 + 5), _FONT, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
        upright = cv2.rotate(strip, cv2.ROTATE_90_COUNTERCLOCKWISE)
        x0, y0 = _LABEL_PX + j * _CELL_PX, top + count * _CELL_PX + 5
        image[y0 : y0 + upright.shape[0], x0 : x0 + _CELL_PX] = upright
    return image


def write_confusion_png(path: Path, confusion: np.ndarray, classes: Sequence[str],
                        title: str) -> None:
    """Render and save; a folder that cannot be written is an InputNotFoundError."""
    image = render_confusion(confusion, classes, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise InputNotFoundError(f"cannot write PNG {path}", "choose a writable --png path")
