"""Capped exponential backoff with full jitter, for reopening lost cameras.

Full jitter (sleep = uniform(0, min(cap, base * 2**attempt)), as in the AWS Architecture Blog
"Exponential Backoff And Jitter") spreads the retries of many cameras and many devices that
lost the same server at the same moment, so they do not reconnect in lock-step. Pure: no
sleeping here; the caller waits on its own stop event so shutdown stays prompt.
"""

from __future__ import annotations

import random
from typing import Optional

# 2**62 s is far beyond any cap; bounding the exponent keeps the float math finite.
_MAX_EXPONENT = 62


class Backoff:
    """Delays for consecutive failures; reset() after a success starts over at base_s."""

    def __init__(self, base_s: float, cap_s: float, rng: Optional[random.Random] = None) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError(f"need 0 < base_s <= cap_s, got base_s={base_s} cap_s={cap_s}")
        self._base_s = base_s
        self._cap_s = cap_s
        self._rng = rng if rng is not None else random.Random()
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """Failures since the last reset()."""
        return self._attempt

    def ceiling_s(self) -> float:
        """Upper bound of the next delay: min(cap, base * 2**attempt)."""
        exponent = min(self._attempt, _MAX_EXPONENT)
        return min(self._cap_s, self._base_s * float(2**exponent))

    def next_delay_s(self) -> float:
        """Delay before the next retry, uniform in [0, ceiling]; counts one more attempt."""
        delay_s = self._rng.uniform(0.0, self.ceiling_s())
        self._attempt += 1
        return delay_s

    def reset(self) -> None:
        """Forget past failures (call when the stream delivers again)."""
        self._attempt = 0
