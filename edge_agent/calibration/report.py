"""The calibration report: a Markdown page of figures and PNG plots of the per-sample values.

A verdict alone invites "just install it"; the page shows what was measured, on what, against
which thresholds, and the plots show whether a failure is a few bad frames or a general drift.
Plots are drawn with OpenCV (already a dependency) rather than a plotting library, which the
devices do not otherwise need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np

from edge_agent.calibration.gate import Figure, GateResult

_W, _H, _MARGIN = 640, 300, 48
_GREEN, _RED, _GREY, _BLACK = (60, 160, 60), (40, 40, 210), (200, 200, 200), (0, 0, 0)


def plot_figure(figure: Figure, path: Path) -> Path:
    """Bar per held-out sample (0..1 scale, zoomed to the data), threshold as a line."""
    values = np.asarray(figure.per_sample or (figure.value,), dtype=np.float64)
    low = float(min(values.min(), figure.threshold))
    low = max(0.0, min(low - 0.02, 0.9)) if low > 0.5 else 0.0
    image = np.full((_H, _W, 3), 255, dtype=np.uint8)
    plot_w, plot_h = _W - 2 * _MARGIN, _H - 2 * _MARGIN

    def y_of(v: float) -> int:
        return int(_MARGIN + plot_h * (1.0 - (v - low) / max(1.0 - low, 1e-9)))

    bar_w = max(plot_w / len(values), 1.0)
    for i, value in enumerate(values):
        x1 = int(_MARGIN + i * bar_w)
        gap = max(1, int(bar_w * 0.15))
        x2 = max(int(_MARGIN + (i + 1) * bar_w) - gap, x1)
        colour = _GREEN if value >= figure.threshold else _RED
        cv2.rectangle(image, (x1, y_of(float(value))), (x2, y_of(low)), colour, -1)
    cv2.line(image, (_MARGIN, y_of(figure.threshold)), (_W - _MARGIN, y_of(figure.threshold)),
             _BLACK, 1)
    cv2.rectangle(image, (_MARGIN, _MARGIN), (_W - _MARGIN, _H - _MARGIN), _GREY, 1)
    cv2.putText(image, "threshold", (_W - _MARGIN - 62, y_of(figure.threshold) - 4),
                cv2.FONT_HERSHEY_SIMPLEX, 0.35, _BLACK)
    for v in (low, 1.0):
        cv2.putText(image, f"{v:.2f}", (4, y_of(v) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, _BLACK)
    verdict = "pass" if figure.passed else "FAIL"
    title = (f"{figure.name}: {figure.value:.4f} (threshold {figure.threshold:.4f}, "
             f"{verdict}) per held-out sample")
    cv2.putText(image, title, (_MARGIN, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.45, _BLACK)
    path = Path(path)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"could not write {path}")
    return path


def write_report(folder: Path, title: str, facts: Dict[str, object], result: GateResult
                 ) -> Path:
    """`report.md` plus `<figure>.png` per figure in `folder`; returns the Markdown path."""
    folder = Path(folder)
    plots: List[str] = []
    seen = set()
    for figure in result.figures:
        if figure.per_sample in seen:  # two figures over the same samples share one plot
            continue
        seen.add(figure.per_sample)
        plots.append(plot_figure(figure, folder / f"{figure.name}.png").name)
    lines = [f"# {title}", "",
             f"**Verdict: {'PASSED' if result.passed else 'REFUSED'}** "
             f"({result.samples} held-out samples, INT8 QDQ on the CPU against FP32)", "",
             "| figure | value | threshold | result |", "|---|---|---|---|"]
    lines += [f"| {f.name} | {f.value:.4f} | {f.threshold:.4f} | "
              f"{'pass' if f.passed else 'FAIL'} |" for f in result.figures]
    lines += ["", "## Calibration", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in facts.items()]
    lines += ["", "## Plots", ""] + [f"![{name}]({name})" for name in plots]
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value).replace("|", "\\|")


def summary_lines(result: GateResult) -> Sequence[str]:
    """The figures as short lines for the terminal."""
    return [f"  {f.name:18s} {f.value:.4f}  (threshold {f.threshold:.4f}) "
            f"{'pass' if f.passed else 'FAIL'}" for f in result.figures]
