"""Render a received mask event over a frame of the clip, so a person can see the result.

Decodes the RLE exactly as a consumer would (from the payload, not from agent internals),
scales it to the frame and tints people green.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

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
    which the label says. A track dict with `pose` (from a pose event) gets its class next to
    the id, and one with `keypoints` (from a keypoints message) its skeleton.

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
    parts = [f"seq {event.get('seq')} people {event.get('person_fraction', 0):.1%}"]
    for track in tracks or []:
        x1, y1, x2, y2 = (int(round(float(v))) for v in track["box"])
        cv2.rectangle(overlay, (x1, y1), (x2, y2), (0, 140, 255), 2)
        label = " ".join(str(part) for part in (track.get("track_id", "?"), track.get("pose"))
                         if part)
        cv2.putText(overlay, label, (x1 + 2, max(y1 - 4, 12)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 140, 255), 2)
    overlay = _draw_skeletons(overlay, tracks or [])
    if tracks:
        parts.append(f"{len(tracks)} tracks (frame {tracks[0].get('frame_seq')}, "
                     f"mask frame {event.get('frame_seq')})")
    if event.get("standin"):
        parts.append("(STAND-IN model)")
    draw_label(overlay, parts)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), overlay)
    return out


def _draw_skeletons(image: np.ndarray, tracks: Sequence[Dict[str, Any]]) -> np.ndarray:
    """Skeletons of tracks that carry a received keypoints message's `keypoints`
    ([[x, y, confidence]] x 34, frame pixels), drawn as the snapshot command draws them."""
    from edge_agent.pose.render import RenderPerson, draw_people

    people = []
    for track in tracks:
        points = track.get("keypoints")
        if not points:
            continue
        array = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        people.append(RenderPerson(keypoints_px=array[:, :2], confidence=array[:, 2]))
    return draw_people(image, people) if people else image


_FONT = cv2.FONT_HERSHEY_SIMPLEX
_MARGIN_PX = 8


def fit_lines(parts: Sequence[str], width_px: int, scale: float,
              thickness: int = 2) -> List[str]:
    """Join label parts into as few lines as fit `width_px`; a part too long alone is kept
    on its own line (draw_label then shrinks the font until it fits)."""
    lines: List[str] = []
    for part in parts:
        candidate = f"{lines[-1]} | {part}" if lines else part
        if lines and _text_width(candidate, scale, thickness) <= width_px:
            lines[-1] = candidate
        else:
            lines.append(part)
    return lines


def _text_width(text: str, scale: float, thickness: int) -> int:
    (width, _), _ = cv2.getTextSize(text, _FONT, scale, thickness)
    return int(width)


def draw_label(image: np.ndarray, parts: Sequence[str]) -> None:
    """Draw the label in red on a dark band, wrapped (and if need be shrunk) to the image."""
    usable_px = image.shape[1] - 2 * _MARGIN_PX
    scale = 0.7
    lines = fit_lines(parts, usable_px, scale)
    while scale > 0.3 and any(_text_width(line, scale, 2) > usable_px for line in lines):
        scale -= 0.05
        lines = fit_lines(parts, usable_px, scale)
    line_px = int(32 * scale) + 6
    band = image[: line_px * len(lines) + _MARGIN_PX]
    band[:] = (band * 0.4).astype(np.uint8)
    for index, line in enumerate(lines):
        cv2.putText(image, line, (_MARGIN_PX, line_px * (index + 1)), _FONT, scale,
                    (0, 0, 255), 2)
