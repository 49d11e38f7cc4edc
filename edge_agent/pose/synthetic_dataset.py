"""Synthetic sequences through the real pose path, written in PoseClassificationNet's format.

Each synthetic 3D sequence (pose.synthetic) is projected to what BodyPose3DNet reports
(frame pixels plus zRel in scale-normalised units), lifted back to 3D by pose.lifting exactly
as live skeletons are, normalised by pose.normalise and stacked into the card's data format:
a float32 array (N, 3, 300, V, 1) and a pickle of [names, labels].
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.pose.joints import ROOT_JOINT
from edge_agent.pose.lifting import (
    REFERENCE_FOCAL_PX,
    SCALE_UNIT_MM,
    frame_focal_px,
    inverse_intrinsics,
    metric_scale,
    points_from_root,
    rays,
    root_depths,
)
from edge_agent.pose.normalise import SOURCE_POINTS, Normalisation, sequence_tensor
from edge_agent.pose.synthetic import CLASSES, synthesize

FRAME_SIZE_PX = (1280, 720)


def project_25d(
    joints_mm: np.ndarray, frame_size_px: Tuple[int, int] = FRAME_SIZE_PX,
    focal_at_reference_px: float = REFERENCE_FOCAL_PX,
) -> Tuple[np.ndarray, np.ndarray]:
    """Camera-space joints [T,34,3] mm -> frame pixels [T,34,2] and zRel [T,34] (model units)."""
    width, height = frame_size_px
    focal = frame_focal_px(width, focal_at_reference_px)
    z = joints_mm[..., 2]
    pixels = np.stack(
        [focal * joints_mm[..., 0] / z + width / 2.0, focal * joints_mm[..., 1] / z + height / 2.0],
        axis=-1,
    )
    z_rel = (z - z[:, ROOT_JOINT : ROOT_JOINT + 1]) / SCALE_UNIT_MM
    return pixels.astype(np.float32), z_rel.astype(np.float32)


def lift_sequence(
    keypoints_px: np.ndarray, z_rel: np.ndarray, confidence: np.ndarray,
    frame_size_px: Tuple[int, int] = FRAME_SIZE_PX,
    focal_at_reference_px: float = REFERENCE_FOCAL_PX,
) -> Tuple[np.ndarray, np.ndarray]:
    """Frames of one person lifted as live poses are (unsmoothed): (points_norm, points_mm)."""
    width, height = frame_size_px
    k_inv = inverse_intrinsics(width, height, frame_focal_px(width, focal_at_reference_px))
    joint_rays = rays(keypoints_px, k_inv)
    points = points_from_root(joint_rays, z_rel, root_depths(joint_rays, z_rel))
    scale = metric_scale(points, confidence)
    return points.astype(np.float32), (points * scale[:, None, None]).astype(np.float32)


def synthetic_dataset(
    per_class: int,
    seed: int,
    method: Normalisation,
    layout: str = "nvidia",
    frames: int = 100,
    classes: Sequence[str] = CLASSES,
) -> Tuple[np.ndarray, List[str], List[int]]:
    """(data (N,3,300,V,1), names, labels) with `per_class` sequences of each class."""
    rng = np.random.RandomState(seed)
    windows = []
    names: List[str] = []
    labels: List[int] = []
    for index, label in enumerate(classes):
        for number in range(per_class):
            joints, conf = synthesize(label, frames, rng)
            pixels, z_rel = project_25d(joints)
            points_norm, points_mm = lift_sequence(pixels, z_rel, conf)
            source = points_mm if SOURCE_POINTS[method] == "points_mm" else points_norm
            windows.append((source, conf))
            names.append(f"synthetic_{label}_{number:04d}")
            labels.append(index)
    return sequence_tensor(windows, method, layout), names, labels


def write_card_format(directory: Path, data: np.ndarray, names: List[str],
                      labels: List[int]) -> Tuple[Path, Path]:
    """`data.npy` and `labels.pkl` ([names, labels]) in `directory`; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    data_path, label_path = directory / "data.npy", directory / "labels.pkl"
    np.save(data_path, data)
    with label_path.open("wb") as handle:
        pickle.dump([names, labels], handle, protocol=4)
    return data_path, label_path


def read_card_format(data_path: Path, label_path: Path) -> Tuple[np.ndarray, List[str], List[int]]:
    """Load and cross-check a skeleton array and its [names, labels] pickle.

    Only open pickles you trust: unpickling runs code (the card's format is a pickle).
    """
    for path in (data_path, label_path):
        if not Path(path).is_file():
            raise InputNotFoundError(f"{path} does not exist", "check the --data/--labels paths")
    try:
        data = np.load(data_path, allow_pickle=False)
    except ValueError as exc:
        raise ConfigError(f"{data_path} is not a numpy .npy array: {exc}",
                          "pass the skeleton array saved with numpy.save") from exc
    with Path(label_path).open("rb") as handle:
        content = pickle.load(handle)  # noqa: S301 - the card's documented format
    if not (isinstance(content, (list, tuple)) and len(content) == 2
            and len(content[0]) == len(content[1])):
        raise ConfigError(
            f"{label_path} must hold [names, labels], two lists of equal length",
            "write it as pickle.dump([names, labels], file)",
        )
    names, labels = [str(n) for n in content[0]], [int(v) for v in content[1]]
    if data.ndim != 5 or data.shape[0] != len(labels):
        raise ConfigError(
            f"{data_path} has shape {data.shape} but {label_path} lists {len(labels)} "
            "sequences; expected (N, 3, 300, V, 1) with N equal",
            "pass the data and label files of the same dataset",
        )
    return data.astype(np.float32, copy=False), names, labels
