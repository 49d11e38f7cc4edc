"""Which frames calibrate and which judge: stratified over scenes and time, never the same frame.

Activation ranges measured on the first seconds of a clip describe that one moment's lighting;
a camera that later sees dusk, or another scene, clips. So frames are chosen in two passes: a
cheap signature (a small grey thumbnail) of every frame finds scene cuts, each scene gets a
share of the budget proportional to its length (at least one frame when the budget allows),
and within a scene the frames are spread evenly in time. The chosen frames are then dealt
alternately into calibration and held-out sets, so both span every scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Sequence, Tuple

import cv2
import numpy as np

from edge_agent.errors import InputNotFoundError

ProgressFn = Callable[[str, int, int], None]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
_THUMB_SIZE = (32, 18)
# Mean absolute thumbnail difference (0..255) above which two neighbouring frames are
# different scenes: a cut changes most pixels by tens of grey levels, walking people a few.
SCENE_CUT_LEVEL = 40.0


class NotEnoughImagesError(InputNotFoundError):
    """Fewer usable frames than the calibration needs; the message gives found and needed."""


@dataclass(frozen=True)
class FrameSet:
    """Frames chosen for calibration and for the held-out accuracy gate (BGR uint8)."""

    calibration: List[np.ndarray]
    held_out: List[np.ndarray]
    scenes: int
    frames_seen: int
    unreadable: int
    source: str


def signature(frame_bgr: np.ndarray) -> np.ndarray:
    """Small grey thumbnail (float32) that changes a lot at a cut and little otherwise."""
    grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
    return cv2.resize(grey, _THUMB_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)


def scene_bounds(signatures: Sequence[np.ndarray],
                 cut_level: float = SCENE_CUT_LEVEL) -> List[Tuple[int, int]]:
    """[start, end) frame ranges of scenes: a new one starts where the thumbnail jumps."""
    if not signatures:
        return []
    bounds: List[Tuple[int, int]] = []
    start = 0
    for index in range(1, len(signatures)):
        jump = float(np.mean(np.abs(signatures[index] - signatures[index - 1])))
        if jump > cut_level:
            bounds.append((start, index))
            start = index
    bounds.append((start, len(signatures)))
    return bounds


def allocate(lengths: Sequence[int], budget: int) -> List[int]:
    """Frames per scene: proportional to length (largest remainders), then every scene gets
    one frame, taken from the scene with the most, while the budget allows."""
    total = sum(lengths)
    budget = min(budget, total)
    if budget <= 0 or total == 0:
        return [0 for _ in lengths]
    shares = [budget * n / total for n in lengths]
    counts = [min(int(s), n) for s, n in zip(shares, lengths)]
    by_remainder = sorted(range(len(lengths)), key=lambda i: -(shares[i] - int(shares[i])))
    while sum(counts) < budget:
        for index in by_remainder:
            if sum(counts) < budget and counts[index] < lengths[index]:
                counts[index] += 1
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        richest = max(range(len(counts)), key=lambda i: counts[i])
        if counts[index] == 0 and lengths[index] > 0 and counts[richest] > 1:
            counts[richest] -= 1
            counts[index] = 1
    return counts


def evenly_spaced(start: int, end: int, count: int) -> List[int]:
    """`count` distinct indices in [start, end), centred in equal strata of time."""
    length = end - start
    count = min(count, length)
    if count <= 0:
        return []
    return [start + int((k + 0.5) * length / count) for k in range(count)]


def plan_indices(signatures: Sequence[np.ndarray], budget: int,
                 cut_level: float = SCENE_CUT_LEVEL) -> Tuple[List[int], int]:
    """Sorted frame indices to keep, stratified over scenes then time; and the scene count."""
    bounds = scene_bounds(signatures, cut_level)
    counts = allocate([end - start for start, end in bounds], budget)
    chosen: List[int] = []
    for (start, end), count in zip(bounds, counts):
        chosen.extend(evenly_spaced(start, end, count))
    return sorted(chosen), len(bounds)


def deal(items: Sequence[int], held_out: int) -> Tuple[List[int], List[int]]:
    """Split chosen indices: every k-th goes to the held-out set so both span all of time."""
    if held_out <= 0:
        return list(items), []
    step = len(items) / held_out
    held = {int((k + 0.5) * step) for k in range(held_out)}
    calibration = [item for i, item in enumerate(items) if i not in held]
    judged = [item for i, item in enumerate(items) if i in held]
    return calibration, judged


def _video_frames(path: Path) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise InputNotFoundError(f"cannot open video {path}",
                                     "check the path and that OpenCV can decode its codec")
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()


def _need(found: int, needed: int, what: str, fix: str) -> None:
    if found < needed:
        raise NotEnoughImagesError(
            f"{what}: found {found} usable frame(s), calibration needs {needed} "
            f"(calibration samples + held-out frames)", fix)


def sample_video(path: Path, calibration: int, held_out: int,
                 progress: ProgressFn) -> FrameSet:
    """Two passes over a video: signatures of every frame, then decode only the chosen ones."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"--video {path} does not exist", "give a readable video file")
    signatures: List[np.ndarray] = []
    counter = cv2.VideoCapture(str(path))
    expected = int(counter.get(cv2.CAP_PROP_FRAME_COUNT) or 0)  # a hint: may be 0 or wrong
    counter.release()
    for frame in _video_frames(path):
        signatures.append(signature(frame))
        if len(signatures) % 25 == 0:
            progress("scan video", len(signatures), max(expected, len(signatures)))
    progress("scan video", len(signatures), len(signatures))
    needed = calibration + held_out
    _need(len(signatures), needed, f"--video {path}",
          "use a longer clip or lower --samples / --held-out")
    chosen, scenes = plan_indices(signatures, needed)
    wanted = set(chosen)
    frames: List[np.ndarray] = []
    for index, frame in enumerate(_video_frames(path)):
        if index in wanted:
            frames.append(frame)
            progress("decode chosen frames", len(frames), len(chosen))
    cal_idx, held_idx = deal(list(range(len(frames))), held_out)
    return FrameSet([frames[i] for i in cal_idx], [frames[i] for i in held_idx], scenes,
                    len(signatures), 0, f"video {path}")


def sample_images(folder: Path, calibration: int, held_out: int,
                  progress: ProgressFn) -> FrameSet:
    """Images of a folder in name order (taken as time order); unreadable files are counted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputNotFoundError(f"--images {folder} is not a folder", "give a folder of images")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    signatures: List[np.ndarray] = []
    readable: List[Path] = []
    unreadable = 0
    for number, path in enumerate(paths, start=1):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            unreadable += 1
        else:
            readable.append(path)
            signatures.append(signature(image))
        progress("scan images", number, len(paths))
    needed = calibration + held_out
    if len(readable) < needed:
        raise NotEnoughImagesError(
            f"--images {folder}: found {len(readable)} readable image(s) of {len(paths)} "
            f"image file(s) ({unreadable} unreadable), calibration needs {needed} "
            "(calibration samples + held-out frames)",
            "add images (any of " + ", ".join(IMAGE_SUFFIXES) + ") or lower --samples / "
            "--held-out")
    chosen, scenes = plan_indices(signatures, needed)
    cal_idx, held_idx = deal(chosen, held_out)

    def load(indices: List[int]) -> List[np.ndarray]:
        loaded = []
        for index in indices:
            image = cv2.imread(str(readable[index]), cv2.IMREAD_COLOR)
            if image is None:  # vanished or changed since the scan
                raise InputNotFoundError(f"{readable[index]} became unreadable during sampling",
                                         "keep the image folder unchanged while calibrating")
            loaded.append(image)
        return loaded

    return FrameSet(load(cal_idx), load(held_idx), scenes, len(paths), unreadable,
                    f"images {folder}")
