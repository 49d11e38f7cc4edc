"""Model settings: where models live, which backend runs them, per-model options."""

from __future__ import annotations

from pathlib import Path
from typing import List, Union

from pydantic import Field, model_validator
from typing_extensions import Annotated, Literal

from edge_agent.errors import ConfigError
from edge_agent.settings.base import StrictModel
from edge_agent.settings.pose import PoseSettings, check_pose_needs_tracking
from edge_agent.settings.tracking import TrackingSettings


class SemSegSettings(StrictModel):
    """PeopleSemSegNet: person masks and zone coverage."""

    enabled: bool = Field(True, description="Run person segmentation on every camera.")
    variant: Literal["auto", "shuffleseg", "vanilla_unet"] = Field(
        "shuffleseg",
        description=(
            "Model variant: 'shuffleseg' (fast, for Nano/NX), 'vanilla_unet' (more accurate, "
            "for Orin) or 'auto' (the device profile's choice, engines/devices/*.toml)."
        ),
    )
    rate_hz: Union[Annotated[float, Field(ge=0.0)], Literal["auto"]] = Field(
        2.0,
        description=(
            "Mask events per second per camera (each is one inference); 0 = as fast as "
            "the device allows; 'auto' = the device profile's rate for the current power mode."
        ),
    )
    mask_width: int = Field(
        240, ge=8, le=3840, description="Width in pixels of the mask carried in mask events."
    )
    mask_height: int = Field(
        136, ge=8, le=2160, description="Height in pixels of the mask carried in mask events."
    )


class ModelsSettings(StrictModel):
    """Where models live and how they run."""

    dir: Path = Field(
        Path("/var/lib/edge-agent/models"),
        description=(
            "Folder holding model files (<name>.onnx plus <name>.manifest.json); create "
            "stand-ins with `edge-agent models standin NAME --out DIR`."
        ),
    )
    backend: Literal["onnxruntime", "tensorrt"] = Field(
        "onnxruntime",
        description="Inference backend: 'onnxruntime' (CPU anywhere) or 'tensorrt' (Jetson/GPU).",
    )
    providers: List[str] = Field(
        default_factory=lambda: ["CPUExecutionProvider"],
        min_length=1,
        description=(
            "ONNX Runtime execution providers in order of preference, e.g. "
            "['CUDAExecutionProvider', 'CPUExecutionProvider']."
        ),
    )
    threads: int = Field(
        0, ge=0, description="ONNX Runtime intra-op threads; 0 = one per CPU core."
    )
    engine_dir: Path = Field(
        Path("/var/cache/edge-agent/engines"),
        description=(
            "Folder of TensorRT engines built on this device (backend 'tensorrt'); systemd's "
            "CacheDirectory, rebuilt when missing, corrupt or built for another device."
        ),
    )
    calibration_dir: Path = Field(
        Path("/var/lib/edge-agent/calibration"),
        description=(
            "INT8 calibration store (`edge-agent calibrate` writes it; caches NVIDIA ships are "
            "installed there by `models fetch`): <model>/<version>/{local,ngc}/; the local one "
            "that passed its accuracy gate wins."
        ),
    )
    scheduler: Literal["auto", "planned", "fixed"] = Field(
        "auto",
        description=(
            "Who sets the task rates: 'planned' = the power-aware scheduler (rates, placement "
            "and shedding from the device profile's latency tables, re-planned when the power "
            "mode, GPU clock, throttling, cameras or measured latencies change); 'fixed' = the "
            "configured rate_hz of each model; 'auto' = planned with backend 'tensorrt', fixed "
            "otherwise."
        ),
    )
    semseg: SemSegSettings = Field(
        default_factory=SemSegSettings, description="PeopleSemSegNet settings."
    )
    tracking: TrackingSettings = Field(
        default_factory=TrackingSettings,
        description="PeopleNet + ReID people tracking, zone counts and line crossings.",
    )
    pose: PoseSettings = Field(
        default_factory=PoseSettings,
        description="BodyPose3DNet skeletons and PoseClassificationNet classes per tracked person.",
    )
    snapshots: "SnapshotSettings" = Field(
        default_factory=lambda: SnapshotSettings(),
        description="Latest annotated frame per camera on local disk, for `edge-agent snapshot`.",
    )

    @model_validator(mode="after")
    def _pose_needs_tracking(self) -> "ModelsSettings":
        # Checked here so `config check`, start-up and reload refuse it alike.
        try:
            check_pose_needs_tracking(self.pose, self.tracking.enabled)
        except ConfigError as err:
            raise ValueError(f"{err.problem}; fix: {err.fix}") from None
        return self


class SnapshotSettings(StrictModel):
    """Opt-in: the agent keeps each camera's latest frame (JPEG) and what it saw on it (JSON)
    on local disk so `edge-agent snapshot` can draw it. Nothing of it is published: images
    never leave the device unless someone copies the file."""

    enabled: bool = Field(False, description="Write <dir>/<camera>.jpg and .json.")
    dir: Path = Field(
        Path("/var/lib/edge-agent/snapshots"),
        description="Folder of the snapshot files (created when missing).",
    )
    interval_s: float = Field(
        1.0, gt=0.0, description="At most one snapshot per camera this often (JPEG encode cost)."
    )
    jpeg_quality: int = Field(85, ge=10, le=100, description="JPEG quality of the frame.")


ModelsSettings.model_rebuild()
