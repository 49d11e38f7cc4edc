"""On-disk cache of prompt features, keyed by the sha256 of everything that determines them.

Extracting a prompt's features costs one heavy model call per example (about 0.25 s on AGX
Orin, 0.8 s on Orin NX per the SegIC card), and the same prompts come back after every restart
and on every device of a fleet; the key is a hash of the extractor's identity and its exact
input arrays, so a hit is always correct and a changed input is always a miss.

Files are `<key>.npz` with the two feature arrays and a sha256 over the key and the arrays'
bytes: a truncated or bit-flipped file fails that check (or numpy's zip check), is deleted and
counted, and the caller recomputes. Writes go to a temporary name and are renamed into place.
The cache is bounded by entry count; the least recently used entry (file mtime, refreshed on
every hit) goes first.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional

import numpy as np

from edge_agent.errors import InputNotFoundError

log = logging.getLogger(__name__)

SUFFIX = ".npz"
_KEY_CHARS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class PromptFeatures:
    """The extractor's outputs for one prompt's examples: [P, 256] and [P, 1024] float32."""

    input_prompts: np.ndarray
    inst_feats: np.ndarray

    @property
    def count(self) -> int:
        """Examples (rows) in the prompt."""
        return int(self.input_prompts.shape[0])


@dataclass
class CacheStats:
    """Counters since the cache was opened."""

    hits: int = 0
    misses: int = 0
    corrupt: int = 0
    evicted: int = 0


def feature_key(parts: Iterable[np.ndarray], model_identity: str) -> str:
    """sha256 over the model identity and each array's dtype, shape and bytes, in order."""
    digest = hashlib.sha256(model_identity.encode("utf-8"))
    for array in parts:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"|{contiguous.dtype.str}{contiguous.shape}|".encode("ascii"))
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


def _checksum(key: str, features: PromptFeatures) -> str:
    digest = hashlib.sha256(key.encode("ascii"))
    for array in (features.input_prompts, features.inst_feats):
        contiguous = np.ascontiguousarray(array, dtype=np.float32)
        digest.update(str(contiguous.shape).encode("ascii"))
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


class FeatureCache:
    """Bounded LRU directory of PromptFeatures; safe to share between threads."""

    def __init__(self, directory: Path, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.directory = Path(directory)
        self.max_entries = max_entries
        self.stats = CacheStats()
        self._lock = threading.Lock()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputNotFoundError(f"cannot create the SegIC prompt cache {self.directory}: "
                                     f"{exc}", "set segic.cache_dir to a writable directory"
                                     ) from exc
        # Use times strictly increase within a process even when the file system's clock
        # ticks coarser than two cache operations.
        self._last_use_ns = max((p.stat().st_mtime_ns for p in self._entries()), default=0)

    def path_for(self, key: str) -> Path:
        """Where the entry for `key` lives."""
        if len(key) != 64 or not set(key) <= _KEY_CHARS:
            raise ValueError(f"cache key must be 64 lower-case hex digits, got {key!r}")
        return self.directory / f"{key}{SUFFIX}"

    def get(self, key: str) -> Optional[PromptFeatures]:
        """The cached features, or None on a miss or a corrupt entry (which is deleted)."""
        path = self.path_for(key)
        with self._lock:
            if not path.is_file():
                self.stats.misses += 1
                return None
            features = self._read(key, path)
            if features is None:
                self.stats.corrupt += 1
                self.stats.misses += 1
                log.warning("SegIC prompt cache entry %s was corrupt; deleted, recomputing", path)
                path.unlink()
                return None
            self._touch(path)
            self.stats.hits += 1
            return features

    def put(self, key: str, features: PromptFeatures) -> None:
        """Store atomically, then evict least recently used entries beyond the bound."""
        path = self.path_for(key)
        with self._lock:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp",
                                            dir=str(self.directory))
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as handle:
                    np.savez(handle, input_prompts=features.input_prompts.astype(np.float32),
                             inst_feats=features.inst_feats.astype(np.float32),
                             checksum=np.array(_checksum(key, features)))
                    handle.flush()
                    os.fsync(handle.fileno())
                tmp.replace(path)
                self._touch(path)
            except BaseException:
                tmp.unlink()
                raise
            self._evict()

    def keys(self) -> List[str]:
        """Keys present, least recently used first."""
        with self._lock:
            return [p.stem for p in self._entries()]

    def _entries(self) -> List[Path]:
        entries = [p for p in self.directory.glob(f"*{SUFFIX}") if p.is_file()]
        return sorted(entries, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def _touch(self, path: Path) -> None:
        """Mark `path` most recently used (its mtime is the persistent LRU order)."""
        self._last_use_ns = max(time.time_ns(), self._last_use_ns + 1)
        os.utime(path, ns=(self._last_use_ns, self._last_use_ns))

    def _evict(self) -> None:
        entries = self._entries()
        for path in entries[: max(0, len(entries) - self.max_entries)]:
            path.unlink()
            self.stats.evicted += 1

    @staticmethod
    def _read(key: str, path: Path) -> Optional[PromptFeatures]:
        try:
            # Our own handle: np.load(path) leaks its file when the zip is unreadable.
            with path.open("rb") as handle, np.load(handle, allow_pickle=False) as data:
                features = PromptFeatures(np.array(data["input_prompts"], dtype=np.float32),
                                          np.array(data["inst_feats"], dtype=np.float32))
                stored = str(data["checksum"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        if stored != _checksum(key, features) or features.count != features.inst_feats.shape[0]:
            return None
        return features
