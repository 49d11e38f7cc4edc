"""Identities of people whose tracks ended, so a returning person gets the same ReID id.

One Gallery per device is shared by every camera's tracker. An entry holds the mean
appearance of an ended track and expires after `ttl_s`; the gallery never holds more than
`max_entries` (oldest dropped first), so memory stays bounded however long the agent runs.
With `cross_camera` a track on one camera may take an identity that ended on another camera
of the same device; otherwise only the same camera's entries are searched. Trackers run on
the inference thread, but the lock keeps the gallery safe if cameras ever get their own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np


@dataclass(frozen=True)
class GalleryEntry:
    """The appearance of one identity when its last track ended."""

    reid_id: str
    embedding: np.ndarray
    camera_id: str
    ended_ts: float


class Gallery:
    """Bounded store of ended identities; hands out new ids too."""

    def __init__(
        self,
        max_entries: int = 500,
        ttl_s: float = 600.0,
        match_threshold: float = 0.7,
        cross_camera: bool = False,
        id_prefix: str = "p",
    ) -> None:
        self._entries: "OrderedDict[str, GalleryEntry]" = OrderedDict()
        self._max_entries = max_entries
        self._ttl_s = ttl_s
        self._threshold = match_threshold
        self._cross_camera = cross_camera
        self._prefix = id_prefix
        self._next = 1
        self._lock = threading.Lock()
        self.reidentified = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def new_id(self) -> str:
        """A device-unique identity for a person not seen before."""
        with self._lock:
            value = f"{self._prefix}-{self._next}"
            self._next += 1
            return value

    def remember(self, reid_id: str, embedding: np.ndarray, camera_id: str, now_s: float) -> None:
        """Store an ended track's identity (replacing an older entry of the same id)."""
        with self._lock:
            self._entries.pop(reid_id, None)
            self._entries[reid_id] = GalleryEntry(reid_id, embedding, camera_id, now_s)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def claim(self, embedding: np.ndarray, camera_id: str, now_s: float) -> Optional[str]:
        """Best matching identity (cosine >= threshold) for a new track, removed from the store."""
        with self._lock:
            self._expire(now_s)
            best: Optional[str] = None
            best_sim = self._threshold
            for entry in self._entries.values():
                if not self._cross_camera and entry.camera_id != camera_id:
                    continue
                sim = float(np.dot(entry.embedding, embedding))
                if sim >= best_sim:
                    best, best_sim = entry.reid_id, sim
            if best is not None:
                del self._entries[best]
                self.reidentified += 1
            return best

    def _expire(self, now_s: float) -> None:
        stale = [k for k, e in self._entries.items() if now_s - e.ended_ts > self._ttl_s]
        for key in stale:
            del self._entries[key]

    def snapshot(self) -> Dict[str, str]:
        """reid_id -> camera of the stored identities (for tests and diagnostics)."""
        with self._lock:
            return {k: e.camera_id for k, e in self._entries.items()}
