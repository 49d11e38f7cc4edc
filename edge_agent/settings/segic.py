"""Settings of the two in-context / part segmentation features: `segic` and `human_parts`.

Both are off by default: SegIC is heavy (about 4 fps at batch 1 on AGX Orin, 1.3 on Orin NX per
its model card) and the part model is user-supplied.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

from pydantic import Field, field_validator

from edge_agent.settings.base import ID_PATTERN, StrictModel


class SegicExampleSettings(StrictModel):
    """One example of a configured prompt: image and mask files of the same size."""

    image: Path = Field(..., description="Example image (PNG/JPEG); relative to the config file.")
    mask: Path = Field(..., description="Its mask (grey PNG, non-zero = object), same size.")


class SegicPromptSettings(StrictModel):
    """A prompt given in the config file."""

    id: str = Field(..., pattern=ID_PATTERN, description="Prompt id used in events.")
    description: str = Field("", description="Optional words naming the object.")
    cameras: List[str] = Field(..., min_length=1, description="Cameras to segment it on.")
    examples: List[SegicExampleSettings] = Field(..., min_length=1, max_length=4)

    @field_validator("cameras")
    @classmethod
    def _unique_cameras(cls, cameras: List[str]) -> List[str]:
        if len(set(cameras)) != len(cameras):
            raise ValueError(f"cameras {cameras} name a camera twice")
        return cameras


class SegicSettings(StrictModel):
    """SegIC: masks of operator-given example objects, at a low rate."""

    enabled: bool = Field(False, description="Run SegIC on the cameras its prompts name.")
    rate_hz: float = Field(0.2, gt=0.0, le=10.0,
                           description="Frames per second per camera SegIC takes (low: it is "
                                       "heavy and must not starve the people models).")
    gpu_share: float = Field(0.25, gt=0.0, le=1.0,
                             description="Largest share of the GPU SegIC may need at rate_hz "
                                         "with every prompt, by the card's fps; above it the "
                                         "device profile decision disables SegIC.")
    prompts: List[SegicPromptSettings] = Field(default_factory=list,
                                               description="Prompts from the config file.")
    max_prompts: int = Field(16, ge=1, le=256, description="Most prompts held at once.")
    cache_dir: Path = Field(Path("/var/lib/edge-agent/segic-cache"),
                            description="Where prompt features are cached.")
    cache_max_entries: int = Field(64, ge=1, le=10000,
                                   description="Cached prompt features kept (LRU).")
    zone_min_coverage: float = Field(0.01, gt=0.0, le=1.0,
                                     description="Fraction of a zone an object must cover for "
                                                 "the zone's 'present' state.")
    zone_refresh_s: float = Field(60.0, gt=0.0,
                                  description="Republish an unchanged zone state this often.")
    chunk_timeout_s: float = Field(60.0, gt=0.0,
                                   description="Drop a chunked prompt transfer idle this long.")
    max_transfer_bytes: int = Field(16 * 1024 * 1024, ge=1024,
                                    description="Largest reassembled prompt document.")

    @field_validator("prompts")
    @classmethod
    def _unique_ids(cls, prompts: List[SegicPromptSettings]) -> List[SegicPromptSettings]:
        ids = [p.id for p in prompts]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"prompt id(s) {twice} used more than once")
        return prompts


class HumanPartsSettings(StrictModel):
    """Human-part masks (FC-HarDNet class models) on person crops from the tracker."""

    enabled: bool = Field(False, description="Run the part model on tracked people.")
    model: str = Field("human_parts", min_length=1,
                       description="Manifest name of the part model (engines/models/*.toml).")
    upstream: str = Field("reid", min_length=1,
                          description="Task whose people it segments (the tracking/ReID task).")
    min_box_height_px: int = Field(48, ge=1, description="Skip people smaller than this.")
    max_people: int = Field(8, ge=1, le=64, description="Most people per frame (largest first).")
    alpha: float = Field(0.5, gt=0.0, le=1.0, description="Part colour opacity in snapshots.")
