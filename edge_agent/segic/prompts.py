"""A SegIC prompt: a few example images with masks, an optional description, and its cameras.

Validated once, where it enters (config file, fleet command), so the task never meets a bad
prompt: every refusal names the prompt, the example and the field, and says how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection, Sequence, Tuple

import numpy as np

from edge_agent.errors import ConfigError
from edge_agent.settings.base import ID_PATTERN

# gradio/onnx_to_trt.py builds the prompt extractor's profile for 1..4 prompts per batch and
# segic's P axis for 1..4: one prompt's examples must fit one segic call.
MAX_EXAMPLES = 4
_ID = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class PromptExample:
    """One example: RGB uint8 [H, W, 3] and its grey mask uint8 [H, W] (non-zero = object)."""

    image_rgb: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class SegicPrompt:
    """A validated prompt; `prompt_id` names it in events and commands."""

    prompt_id: str
    examples: Tuple[PromptExample, ...]
    description: str
    cameras: Tuple[str, ...]


def _size(array: np.ndarray) -> str:
    return f"{array.shape[0]}x{array.shape[1]}" if array.ndim >= 2 else str(array.shape)


def check_example(example: PromptExample, where: str) -> None:
    """Refuse a malformed image, an empty mask or a mask whose size differs from its image."""
    image, mask = example.image_rgb, example.mask
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
        raise ConfigError(f"{where}: image must be an RGB picture, got {image.dtype} "
                          f"array of shape {image.shape}", "give a PNG or JPEG colour image")
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[:, :, 0]
    sizes = f"mask is {_size(mask)} (HxW), its image {_size(image)}"
    if mask.ndim != 2 or mask.shape != image.shape[:2]:
        raise ConfigError(f"{where}: mask size differs from its image: {sizes}",
                          "draw the mask on the example image itself, at the same size")
    if not np.any(mask):
        raise ConfigError(f"{where}: mask is empty (no pixel set): {sizes}",
                          "mark the object's pixels in the mask (non-zero = object)")


def make_prompt(prompt_id: str, examples: Sequence[PromptExample], description: str,
                cameras: Sequence[str], known_cameras: Collection[str],
                source: str = "prompt") -> SegicPrompt:
    """Validate every part of a prompt; ConfigError naming `source` and the field on failure."""
    where = f"{source} {prompt_id!r}"
    if not _ID.match(prompt_id):
        raise ConfigError(f"{source}: prompt id {prompt_id!r} is not a valid id",
                          "use 1-64 letters, digits, '_' or '-', starting with a letter or digit")
    if not 1 <= len(examples) <= MAX_EXAMPLES:
        raise ConfigError(f"{where}: has {len(examples)} examples; SegIC takes 1 to "
                          f"{MAX_EXAMPLES} per prompt", f"give 1 to {MAX_EXAMPLES} examples")
    for number, example in enumerate(examples, start=1):
        check_example(example, f"{where} example {number}")
    if not cameras:
        raise ConfigError(f"{where}: names no camera",
                          f"list the cameras to segment on; known: {_known(known_cameras)}")
    unknown = [camera for camera in cameras if camera not in known_cameras]
    if unknown:
        raise ConfigError(f"{where}: unknown camera(s) {', '.join(map(repr, unknown))}",
                          f"use configured camera ids: {_known(known_cameras)}")
    masks = tuple(PromptExample(e.image_rgb, e.mask[:, :, 0] if e.mask.ndim == 3 else e.mask)
                  for e in examples)
    return SegicPrompt(prompt_id, masks, description.strip(), tuple(dict.fromkeys(cameras)))


def _known(cameras: Collection[str]) -> str:
    return ", ".join(sorted(cameras)) or "(none configured)"
