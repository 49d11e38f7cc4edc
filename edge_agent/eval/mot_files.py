"""MOTChallenge text files: `frame, id, left, top, width, height, conf, x|class, y|vis, z`.

Ground truth and tracker output share the format; raw detections carry id -1. Frames are
1-based. Columns 7-10 mean different things per benchmark and are honoured as the
MOTChallenge devkit does:

* Ground truth, MOT16/17/20: column 7 is a "consider" flag (0 = ignore this box), column 8
  the class. Pedestrians (1) are scored; distractor classes (2 person on vehicle, 7 static
  person, 8 distractor, 12 reflection) become ignore regions: a hypothesis on one is neither
  a hit nor a false positive. Other classes (vehicles, occluders) are not people and are
  dropped. 2D MOT 2015 ground truth (TUD-Campus) has -1 in columns 8-10: every box with
  column 7 != 0 is a pedestrian.
* Detections and tracker output: column 7 is the confidence; -1 means "not given" and reads
  as 1.0 (CEM's test.txt writes -1).

A line with fewer than 6 or more than 10 columns, a value that is not a number, or an
unknown class is refused with the file, the line number and the fix: a misread column would
silently change every score.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from edge_agent.errors import ConfigError, InputNotFoundError

Row = Tuple[int, float, float, float, float, float]
"""(id, left, top, width, height, confidence)."""
Rows = Dict[int, List[Row]]
"""frame -> rows of that frame."""

PEDESTRIAN = 1
DISTRACTORS = frozenset({2, 7, 8, 12})
NOT_PEOPLE = frozenset({3, 4, 5, 6, 9, 10, 11, 13})
_FORMAT = "lines of: frame,id,left,top,width,height,conf[,x|class,y|visibility,z]"


@dataclass(frozen=True)
class GroundTruth:
    """Boxes to score, and boxes whose hypotheses are ignored."""

    rows: Rows
    ignored: Rows


@dataclass(frozen=True)
class DetectionFile:
    """Rows per frame, plus each row's ordinal among the file's data lines (for embeddings)."""

    rows: Rows
    ordinals: Dict[int, List[int]] = field(default_factory=dict)
    lines: int = 0


def _parse(path: Path) -> List[Tuple[int, List[float]]]:
    """(line number, values) of every non-empty line; refuses malformed lines."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputNotFoundError(f"cannot read {path}: {exc}", "check the path") from exc
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if not 6 <= len(parts) <= 10:
            raise ConfigError(
                f"{path}:{number} has {len(parts)} columns, MOTChallenge files have 6 to 10: "
                f"{line[:60]!r}", f"use {_FORMAT}")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ConfigError(f"{path}:{number} is not a MOTChallenge row: {line[:60]!r}",
                              f"use {_FORMAT}") from None
        out.append((number, values))
    return out


def read_ground_truth(path: Path) -> GroundTruth:
    """Scored pedestrian boxes and ignore regions of a ground-truth file."""
    rows: Rows = defaultdict(list)
    ignored: Rows = defaultdict(list)
    for number, values in _parse(path):
        consider = values[6] if len(values) > 6 else 1.0
        cls = int(values[7]) if len(values) > 7 and values[7] != -1 else PEDESTRIAN
        if cls != PEDESTRIAN and cls not in DISTRACTORS and cls not in NOT_PEOPLE:
            raise ConfigError(
                f"{path}:{number} has class {cls}, which MOTChallenge does not define",
                "column 8 of ground truth is the class (1 pedestrian ... 13), or -1")
        row = (int(values[1]), values[2], values[3], values[4], values[5], 1.0)
        if cls in NOT_PEOPLE:
            continue
        if consider == 0 or cls in DISTRACTORS:
            ignored[int(values[0])].append(row)
        else:
            rows[int(values[0])].append(row)
    return GroundTruth(dict(rows), dict(ignored))


def read_detections(path: Path, min_conf: float = float("-inf")) -> DetectionFile:
    """Detections or tracker output; confidence -1 reads as 1.0; rows below min_conf skipped."""
    rows: Rows = defaultdict(list)
    ordinals: Dict[int, List[int]] = defaultdict(list)
    parsed = _parse(path)
    for ordinal, (_, values) in enumerate(parsed):
        conf = values[6] if len(values) > 6 else 1.0
        conf = 1.0 if conf == -1 else conf
        if conf < min_conf:
            continue
        frame = int(values[0])
        rows[frame].append((int(values[1]), values[2], values[3], values[4], values[5], conf))
        ordinals[frame].append(ordinal)
    return DetectionFile(dict(rows), dict(ordinals), len(parsed))


def write_mot(path: Path, rows: Rows) -> None:
    """Write rows in frame order (conf kept, 3D columns -1)."""
    lines = []
    for frame in sorted(rows):
        for oid, left, top, width, height, conf in rows[frame]:
            lines.append(f"{frame},{oid},{left:.2f},{top:.2f},{width:.2f},{height:.2f},"
                         f"{conf:.3f},-1,-1,-1")
    Path(path).write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
