"""Market-1501 style ReID evaluation: mAP and CMC rank-k from embeddings.

Protocol (as in the Market-1501 benchmark code and TAO's reid_metric.py): for each query,
gallery images of the same person *and* the same camera are ignored (they are too easy), as
are junk images (person id -1); distractors (id 0) stay as negatives. A query with no valid
true match is skipped. Distance is cosine distance of L2-normalised embeddings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from edge_agent.errors import ConfigError

_NAME = re.compile(r"^(-?\d+)_c(\d+)")


def parse_market_name(name: str) -> Optional[Tuple[int, int]]:
    """'0001_c1s1_01_00.jpg' -> (1, 1); '-1_c3s2_...' -> (-1, 3); other names -> None."""
    match = _NAME.match(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def list_split(folder: Path) -> List[Tuple[Path, int, int]]:
    """(path, person id, camera) of every image named in Market style, sorted by name."""
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder",
                          "pass a Market-1501 root holding query/ and bounding_box_test/")
    items = []
    for path in sorted(folder.iterdir()):
        parsed = parse_market_name(path.name)
        if parsed and path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            items.append((path, parsed[0], parsed[1]))
    return items


@dataclass(frozen=True)
class ReidScores:
    """Mean average precision and CMC at ranks 1, 5, 10."""

    mean_ap: float
    rank1: float
    rank5: float
    rank10: float
    queries: int

    def as_dict(self) -> Dict[str, float]:
        """JSON-ready form."""
        return {"mAP": self.mean_ap, "rank1": self.rank1, "rank5": self.rank5,
                "rank10": self.rank10, "queries": float(self.queries)}


def evaluate(
    query: np.ndarray, q_ids: Sequence[int], q_cams: Sequence[int],
    gallery: np.ndarray, g_ids: Sequence[int], g_cams: Sequence[int],
) -> ReidScores:
    """Scores of query embeddings [Q,D] against gallery embeddings [G,D] (unit rows)."""
    g_id = np.asarray(g_ids)
    g_cam = np.asarray(g_cams)
    dist = 1.0 - np.asarray(query, np.float64) @ np.asarray(gallery, np.float64).T
    aps: List[float] = []
    cmc = np.zeros(10)
    for qi in range(len(query)):
        valid = (g_id != -1) & ~((g_id == q_ids[qi]) & (g_cam == q_cams[qi]))
        order = np.argsort(dist[qi][valid], kind="stable")
        matches = (g_id[valid] == q_ids[qi])[order]
        if not matches.any():
            continue
        hits = np.flatnonzero(matches)
        precision = np.arange(1, len(hits) + 1) / (hits + 1)
        aps.append(float(precision.mean()))
        first = int(hits[0])
        if first < 10:
            cmc[first:] += 1
    count = len(aps)
    if count == 0:
        raise ConfigError("no query has a true match in the gallery",
                          "check the person ids and cameras in the file names")
    cmc /= count
    return ReidScores(float(np.mean(aps)), float(cmc[0]), float(cmc[4]), float(cmc[9]), count)
