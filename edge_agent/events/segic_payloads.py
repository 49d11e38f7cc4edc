"""Documents of the SegIC and human-part features: object masks per prompt, zone presence, parts.

Masks use pycocotools' own compressed-RLE dict ({"size": [h, w], "counts": "<string>"}), so a
consumer passes `mask` straight to `pycocotools.mask.decode`. Unlike the person MaskEvent these
masks are at full frame resolution (SegIC's contract resizes back to the frame; part masks are
crops mapped back into the frame), where the integer run list would be several times longer
than the compressed string, so only the string is carried.
"""

from __future__ import annotations

from typing import List

import numpy as np
from pydantic import Field, model_validator
from typing_extensions import Literal

from edge_agent.events.payloads import SCHEMA_VERSION, EventEnvelope, _Payload
from edge_agent.events.rle import encode_rle, rle_from_string, rle_to_string


class CocoRle(_Payload):
    """A binary mask on the frame grid as COCO compressed RLE (column-major runs)."""

    size: List[int] = Field(..., min_length=2, max_length=2,
                            description="[height, width] of the frame in pixels.")
    counts: str = Field(..., description="COCO compressed run-length string (pycocotools).")

    @model_validator(mode="after")
    def _runs_cover_the_grid(self) -> CocoRle:
        height, width = self.size
        if height < 1 or width < 1:
            raise ValueError(f"size {self.size} must be positive")
        runs = rle_from_string(self.counts)
        if sum(runs) != height * width:
            raise ValueError(f"runs cover {sum(runs)} pixels, the grid has {height * width}")
        return self

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> CocoRle:
        """Encode a 2-D mask (non-zero = set)."""
        rle = encode_rle(mask)
        return cls(size=[rle.size[0], rle.size[1]], counts=rle_to_string(rle.counts))


class SegicMaskEvent(EventEnvelope):
    """One prompt's object mask in one frame (published even when empty: 'not seen now')."""

    type: Literal["segic_mask"] = Field("segic_mask", description="Event kind.")
    model: str = Field(..., min_length=1, description="Name of the SegIC model manifest.")
    prompt_id: str = Field(..., min_length=1, description="Id of the prompt this mask answers.")
    frame_seq: int = Field(..., ge=0, description="Number of the frame in its camera.")
    frame_width: int = Field(..., ge=1, description="Frame width in pixels.")
    frame_height: int = Field(..., ge=1, description="Frame height in pixels.")
    score: float = Field(..., ge=0.0, le=1.0,
                         description="Mean sigmoid of the mask logits over the mask's pixels "
                                     "(0 for an empty mask); the model gives no other score.")
    area_fraction: float = Field(..., ge=0.0, le=1.0,
                                 description="Fraction of the frame the mask covers.")
    example: int = Field(..., ge=0,
                         description="Which of the prompt's examples gave the kept mask (the "
                                     "largest, as the contract's post-processing keeps).")
    mask: CocoRle = Field(..., description="The mask at frame resolution.")
    inference_ms: float = Field(..., ge=0.0, description="Model time for this prompt, ms.")

    @model_validator(mode="after")
    def _mask_on_frame(self) -> SegicMaskEvent:
        if self.mask.size != [self.frame_height, self.frame_width]:
            raise ValueError(f"mask size {self.mask.size} must be the frame's "
                             f"[{self.frame_height}, {self.frame_width}]")
        return self


class SegicZoneState(_Payload):
    """Retained per camera, zone and prompt: is the prompted object in the zone now."""

    schema_version: str = Field(SCHEMA_VERSION, description="Payload schema version.")
    device_id: str = Field(..., min_length=1, description="Id of the device.")
    camera_id: str = Field(..., min_length=1, description="Id of the camera.")
    zone: str = Field(..., min_length=1, description="Zone name from the camera configuration.")
    prompt_id: str = Field(..., min_length=1, description="Id of the prompt.")
    present: bool = Field(..., description="True when the object covers at least the "
                                           "configured fraction of the zone.")
    coverage: float = Field(..., ge=0.0, le=1.0, description="Fraction of the zone covered.")
    capture_ts: float = Field(..., ge=0.0, description="Capture time of the frame, UTC s.")
    standin: bool = Field(..., description="True when a stand-in model produced the value.")
    replayed: bool = Field(False, description="True when sent from the outbox backlog.")


class PartMask(_Payload):
    """One body part of one person, on the frame grid."""

    class_id: int = Field(..., ge=1, description="Index in the model's label map (0 = "
                                                 "background, never sent).")
    label: str = Field(..., min_length=1, description="Part name from the manifest's labels.")
    pixels: int = Field(..., ge=1, description="Pixels of the part in the frame.")
    mask: CocoRle = Field(..., description="The part's pixels, crop mapped back to the frame.")


class PersonParts(_Payload):
    """The parts of one person box."""

    index: int = Field(..., ge=0, description="Position of the box in the upstream result.")
    box: List[int] = Field(..., min_length=4, max_length=4,
                           description="Crop in frame pixels [x1, y1, x2, y2), clipped.")
    parts: List[PartMask] = Field(default_factory=list, description="Parts found, by class.")


class PartsEvent(EventEnvelope):
    """Human-part masks of every (large enough) person in one frame."""

    type: Literal["parts"] = Field("parts", description="Event kind.")
    model: str = Field(..., min_length=1, description="Name of the part model manifest.")
    frame_seq: int = Field(..., ge=0, description="Number of the frame in its camera.")
    frame_width: int = Field(..., ge=1, description="Frame width in pixels.")
    frame_height: int = Field(..., ge=1, description="Frame height in pixels.")
    people: List[PersonParts] = Field(default_factory=list, description="One entry per person.")
    inference_ms: float = Field(..., ge=0.0, description="Model time for this frame's crops.")
