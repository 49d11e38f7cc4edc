"""Prompts from their two sources: a fleet command's JSON document and the config file's paths.

Both end in `make_prompt`, so a prompt is validated the same way wherever it comes from. Images
are decoded with OpenCV (PNG or JPEG); masks are read as grey (any non-zero pixel = object).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Collection, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.segic.prompts import MAX_EXAMPLES, PromptExample, SegicPrompt, make_prompt
from edge_agent.settings.segic import SegicPromptSettings


class ExampleDocument(BaseModel):
    """One example in a prompt document: base64 PNG/JPEG image and mask."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str = Field(..., description="Example image, PNG or JPEG, base64.")
    mask: str = Field(..., description="Mask of the same size, PNG (grey, non-zero = object), "
                                       "base64.")


class PromptDocument(BaseModel):
    """A prompt as a fleet command sends it (possibly reassembled from chunks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(..., description="Prompt id, used in events and to remove it.")
    description: str = Field("", description="Optional words naming the object.")
    cameras: List[str] = Field(..., description="Cameras to segment it on.")
    examples: List[ExampleDocument] = Field(..., min_length=1, max_length=MAX_EXAMPLES)
    replace: bool = Field(False, description="Replace an existing prompt with this id.")


def _decode(text: str, flags: int, where: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{where} is not base64", "encode the PNG/JPEG file with base64"
                          ) from exc
    image: Optional[np.ndarray] = cv2.imdecode(np.frombuffer(raw, np.uint8), flags)
    if image is None:
        raise ConfigError(f"{where} is not a PNG or JPEG image", "send PNG or JPEG files")
    return image


def prompt_from_document(payload: bytes, known_cameras: Collection[str], source: str
                         ) -> Tuple[SegicPrompt, bool]:
    """Parse and validate a prompt document; (prompt, replace)."""
    try:
        doc = PromptDocument.model_validate_json(payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"{source}: not a SegIC prompt document: {problems}",
                          "send JSON with id, cameras, examples[{image, mask}], description"
                          ) from exc
    examples = []
    for number, example in enumerate(doc.examples, start=1):
        where = f"{source} prompt {doc.id!r} example {number}"
        bgr = _decode(example.image, cv2.IMREAD_COLOR, f"{where} image")
        mask = _decode(example.mask, cv2.IMREAD_GRAYSCALE, f"{where} mask")
        examples.append(PromptExample(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), mask))
    prompt = make_prompt(doc.id, examples, doc.description, doc.cameras, known_cameras, source)
    return prompt, doc.replace


def _read(path: Path, flags: int, field: str) -> np.ndarray:
    image: Optional[np.ndarray] = cv2.imread(str(path), flags) if path.is_file() else None
    if image is None:
        raise InputNotFoundError(f"{field}: cannot read image {path}",
                                 "check the path and that it is a PNG or JPEG file")
    return image


def prompt_from_settings(settings: SegicPromptSettings, known_cameras: Collection[str],
                         base_dir: Path, field: str = "segic.prompts") -> SegicPrompt:
    """Load a configured prompt's files (relative paths from `base_dir`) and validate it."""
    examples = []
    for number, example in enumerate(settings.examples):
        where = f"{field} ({settings.id}).examples[{number}]"
        bgr = _read(base_dir / example.image, cv2.IMREAD_COLOR, f"{where}.image")
        mask = _read(base_dir / example.mask, cv2.IMREAD_GRAYSCALE, f"{where}.mask")
        examples.append(PromptExample(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), mask))
    return make_prompt(settings.id, examples, settings.description, settings.cameras,
                       known_cameras, field)


def prompts_from_settings(prompts: Sequence[SegicPromptSettings], known_cameras: Collection[str],
                          base_dir: Path) -> List[SegicPrompt]:
    """Every configured prompt, loaded and validated (the first bad one raises, named)."""
    return [prompt_from_settings(p, known_cameras, base_dir, f"segic.prompts[{i}]")
            for i, p in enumerate(prompts)]
