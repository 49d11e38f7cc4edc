"""The shared vocabulary that flows between pipeline stages.

Values here are immutable and carry no behaviour beyond validation, so any stage can be
tested with hand-made instances and no stage can change what another one sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One captured image.

    pixels: uint8 array (H, W, 3) in BGR order, owned by this frame (never a view into a
    capture ring buffer). capture_ts is wall-clock UTC epoch seconds (for payloads);
    monotonic_ts is `time.monotonic()` at capture (for rates and ages).
    seq counts frames delivered by this camera since the agent started.
    """

    camera_id: str
    seq: int
    capture_ts: float
    monotonic_ts: float
    pixels: np.ndarray

    def __post_init__(self) -> None:
        px = self.pixels
        if px.dtype != np.uint8 or px.ndim != 3 or px.shape[2] != 3:
            raise ValueError(
                f"Frame.pixels must be uint8 (H, W, 3) BGR, got {px.dtype} {px.shape}"
            )

    @property
    def size_wh(self) -> Tuple[int, int]:
        """Frame width and height in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])
