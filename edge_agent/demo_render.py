"""Render a received mask event over a frame of the clip, so a person can see the result.

Decodes the RLE exactly as a consumer would (from the payload, not from agent internals),
scales it to the frame and tints people green.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import cv2
import numpy as np

from edge_agent.events.rle import Rle, decode_rle


def render_last_mask(
    clip: Path,
    event: Dict[str, Any],
    out: Path,
    tracks: Optional[Sequence[Dict[str, Any]]] = None,
) -> Path:
    """Write a PNG of the event's own frame with the event's mask overlaid, and track boxes.

    Track boxes (orange, with the track id) come from the newest track events; they may be a
    few frames away from the mask's frame (tracking and segmentation run at their own rates),
    which the label says.

    The demo loops the clip and reads every frame, so frame_seq n (1 first) is frame
    (n - 1) modulo the clip's length.
    """
    capture = cv2.VideoCapture(str(clip))
    length = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    if length > 0:
        capture.set(cv2.CAP_PROP_POS_FRAMES, (int(event.get("frame_seq", 1)) - 1) % length)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        frame = np.full(
            (int(event["frame_height"]), int(event["frame_width"]), 3), 64, dtype=np.uint8
        )
    mask_info = event["mask"]
    height, width = int(mask_info["size"][0]), int(mask_info["size"][1])
    mask = decode_rle(Rle((height, width), list(mask_info["counts"])))
    big = cv2.resize(
        mask.astype(np.uint8), (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_NEAREST
    ).astype(bool)
    overlay = frame.copy()
    overlay[big] = (0.5 * overlay[big] + 0.5 * np.array([0, 255, 0])).astype(np.uint8)
    label = f"seq {event.get('seq')} people {event.get('person_fraction', 0):.1%}"
    for track in tracks or []:
        x1, y1, x2, y2 = (int(round(float(v))) for v in track["box"])
        cv2.rectangle(overlay, (x1, y1), (x2, y2), (0, 140, 255), 2)
        cv2.putText(overlay, str(track.get("track_id", "?")), (x1 + 2, max(y1 - 4, 12)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 140, 255), 2)
    if tracks:
        label += (
            f" | {len(tracks)} tracks (frame {tracks[0].get('frame_seq')}, "
            f"mask frame {event.get('frame_seq')})"
        )
    if event.get("standin"):
        label += " (STAND-IN model)"
    cv2.putText(overlay, label, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 255), 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), overlay)
    return out
