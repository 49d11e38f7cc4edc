"""MOTChallenge text files: `frame, id, left, top, width, height, conf, x, y, z` per line.

Ground truth and tracker output share the format; raw detections carry id -1. Frames are
1-based. Only the first seven columns are read (3D columns are ignored), and a missing
confidence reads as 1.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from edge_agent.errors import ConfigError, InputNotFoundError

Rows = Dict[int, List[Tuple[int, float, float, float, float, float]]]


def read_mot(path: Path, min_conf: float = -np.inf) -> Rows:
    """frame -> [(id, left, top, width, height, conf)], rows below min_conf skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputNotFoundError(f"cannot read {path}: {exc}", "check the path") from exc
    rows: Rows = defaultdict(list)
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.replace(" ", "").split(",")
        try:
            values = [float(p) for p in parts[:7]]
        except ValueError:
            raise ConfigError(
                f"{path}:{number} is not a MOTChallenge row: {line[:60]!r}",
                "use lines of: frame,id,left,top,width,height,conf[,x,y,z]",
            ) from None
        if len(values) < 6:
            raise ConfigError(f"{path}:{number} has fewer than 6 columns",
                              "use lines of: frame,id,left,top,width,height,conf[,x,y,z]")
        conf = values[6] if len(values) > 6 else 1.0
        if conf < min_conf:
            continue
        rows[int(values[0])].append(
            (int(values[1]), values[2], values[3], values[4], values[5], conf)
        )
    return dict(rows)


def write_mot(path: Path, rows: Rows) -> None:
    """Write rows in frame order (conf kept, 3D columns -1)."""
    lines = []
    for frame in sorted(rows):
        for oid, left, top, width, height, conf in rows[frame]:
            lines.append(f"{frame},{oid},{left:.2f},{top:.2f},{width:.2f},{height:.2f},"
                         f"{conf:.3f},-1,-1,-1")
    Path(path).write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
