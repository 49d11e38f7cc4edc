"""A pose class that does not flicker: a change must be seen several times in a row.

ST-GCN's best class can alternate between two near-equal classes from one window to the
next (standing / walking at a slow walk); publishing each would spam events and make zone
counts jitter. A new class replaces the current one after `confirm` consecutive
classifications agree on it; "no confident class" (below the threshold) clears the current
one only after `release` consecutive results, since one unsure window is not a change.
"""

from __future__ import annotations

from typing import Optional


class ClassHysteresis:
    """Per-track stable class; feed every classification result to `update`."""

    def __init__(self, confirm: int = 2, release: int = 3) -> None:
        if confirm < 1 or release < 1:
            raise ValueError(f"confirm ({confirm}) and release ({release}) must be >= 1")
        self.confirm = confirm
        self.release = release
        self.stable: Optional[str] = None
        self._candidate: Optional[str] = None
        self._streak = 0

    def update(self, label: Optional[str]) -> Optional[str]:
        """Record one result (None = below threshold); returns the stable class."""
        if label == self.stable:
            self._candidate, self._streak = None, 0
            return self.stable
        if label == self._candidate:
            self._streak += 1
        else:
            self._candidate, self._streak = label, 1
        needed = self.release if label is None else self.confirm
        if self._streak >= needed:
            self.stable = label
            self._candidate, self._streak = None, 0
        return self.stable
