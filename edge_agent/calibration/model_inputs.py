"""Calibration samples per model family, made by the very functions inference uses.

A calibration is only as good as its resemblance to what the engine will see, so nothing is
re-implemented here: frames go through `semseg.preprocess` or `peoplenet.preprocess`, and for
the ReID crop model the detector (PeopleNet, or its stand-in) is run in FP32 on each frame, its
boxes decoded by `peoplenet.decode_batch` and cut by `reid.crop_boxes` and
`reid.preprocess_crops`. Models whose input is not an image (pose classification takes
skeleton sequences) are calibrated from recorded input tensors (`--tensors FILE.npy`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Sequence

import numpy as np

from edge_agent.calibration.sampling import NotEnoughImagesError
from edge_agent.errors import ConfigError, InputNotFoundError, ModelContractError
from edge_agent.models import peoplenet, reid, semseg

ProgressFn = Callable[[str, int, int], None]
Sample = Dict[str, np.ndarray]
FRAME_FAMILIES = ("semseg", "peoplenet")
CROP_FAMILIES = ("reid",)
TENSOR_FAMILIES = ("poseclass",)
GATED_FAMILIES = FRAME_FAMILIES + CROP_FAMILIES + TENSOR_FAMILIES


def check_family(family: str, model_name: str) -> None:
    """Only families with an accuracy metric can be calibrated (the gate must be able to say no)."""
    if family not in GATED_FAMILIES:
        raise ConfigError(
            f"model {model_name!r} (family {family}) has no INT8 accuracy gate",
            "calibrate one of the families " + ", ".join(GATED_FAMILIES))


def frame_samples(family: str, input_name: str, frames: Sequence[np.ndarray],
                  progress: ProgressFn, stage: str) -> List[Sample]:
    """One feed per frame, preprocessed as at inference."""
    preprocess = semseg.preprocess if family == "semseg" else peoplenet.preprocess
    samples = []
    for number, frame in enumerate(frames, start=1):
        samples.append({input_name: preprocess([frame])})
        progress(stage, number, len(frames))
    return samples


def person_crops(detector_path: Path, frames: Sequence[np.ndarray], per_frame: int,
                 progress: ProgressFn, stage: str) -> List[np.ndarray]:
    """Person crops the detector finds, at most `per_frame` (highest scores) per frame."""
    import onnxruntime as ort

    if not Path(detector_path).is_file():
        raise InputNotFoundError(f"detector model {detector_path} does not exist",
                                 "pass --detector PATH (PeopleNet or its stand-in)")
    session = ort.InferenceSession(str(detector_path), providers=["CPUExecutionProvider"])
    names = [out.name for out in session.get_outputs()]
    if peoplenet.COV_NAME not in names or peoplenet.BBOX_NAME not in names:
        raise ModelContractError(
            f"detector {detector_path} has outputs {names}, not PeopleNet's "
            f"{peoplenet.COV_NAME!r} and {peoplenet.BBOX_NAME!r}",
            "pass --detector a PeopleNet model (or `edge-agent models standin peoplenet`)")
    crops: List[np.ndarray] = []
    params = peoplenet.ClusterParams()
    for number, frame in enumerate(frames, start=1):
        cov, bbox = session.run([peoplenet.COV_NAME, peoplenet.BBOX_NAME],
                                {peoplenet.INPUT_NAME: peoplenet.preprocess([frame])})
        height, width = frame.shape[:2]
        found = peoplenet.decode_batch(cov, bbox, [(width, height)], params)[0]
        people = found.of_class(peoplenet.PERSON_CLASS)
        best = np.argsort(-people.scores)[:per_frame]
        crops.extend(reid.crop_boxes(frame, people.boxes[best]))
        progress(stage, number, len(frames))
    return crops


def crop_samples(input_name: str, crops: Sequence[np.ndarray]) -> List[Sample]:
    """One feed per crop, preprocessed by `reid.preprocess_crops`."""
    return [{input_name: reid.preprocess_crops([crop])} for crop in crops]


def need_crops(found: int, needed: int, where: str) -> None:
    """Refuse too few crops with the numbers."""
    if found < needed:
        raise NotEnoughImagesError(
            f"{where}: the detector found {found} person crop(s), calibration needs {needed}",
            "use footage with more people in view, or raise --crops-per-frame")


def tensor_samples(path: Path, input_name: str, expected_shape: Sequence[object]
                   ) -> List[Sample]:
    """Rows of a recorded input array ([K, ...] .npy), one feed each."""
    path = Path(path)
    try:
        array = np.load(str(path), allow_pickle=False)
    except FileNotFoundError:
        raise InputNotFoundError(f"--tensors {path} does not exist",
                                 "record the model's input tensors to an .npy file") from None
    except (OSError, ValueError) as exc:
        raise InputNotFoundError(f"--tensors {path} is not a readable .npy array: {exc}",
                                 "save it with numpy.save") from None
    fixed = list(expected_shape[1:])
    if array.ndim != len(expected_shape) or any(
            isinstance(d, int) and d != s for d, s in zip(fixed, array.shape[1:])):
        raise ConfigError(
            f"--tensors {path} has shape {list(array.shape)}, the model's input {input_name!r} "
            f"is {list(expected_shape)}", "record tensors in the model's input shape")
    data = np.ascontiguousarray(array, dtype=np.float32)
    return [{input_name: data[i:i + 1]} for i in range(data.shape[0])]

