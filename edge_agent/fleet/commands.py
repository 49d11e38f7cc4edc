"""The commands a device understands: one argument model per command, and their schemas.

The models are strict (unknown fields are errors) so a typo in an argument is answered with a
failed reply naming the field instead of being ignored.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Tuple, Type

from pydantic import BaseModel, ConfigDict, Field

from edge_agent.fleet.envelope import CommandReply, CommandRequest


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(_Args):
    """The command takes no arguments."""


class GetConfigArgs(_Args):
    """Read the running configuration."""

    sections: List[str] = Field(
        default_factory=list, description="Top-level sections to return ([] = all)."
    )


class SetConfigArgs(_Args):
    """Replace the configuration; rolled back unless healthy within health_timeout_s."""

    config: Dict[str, Any] = Field(..., description="The complete new configuration.")
    health_timeout_s: float = Field(
        30.0, gt=0.0, le=3600.0, description="Seconds the agent has to become healthy."
    )


class PatchConfigArgs(_Args):
    """Merge sections into the configuration (same health check and rollback as set_config)."""

    patch: Dict[str, Any] = Field(..., description="Sections to merge, deep (lists replace).")
    health_timeout_s: float = Field(30.0, gt=0.0, le=3600.0, description="See set_config.")


class RevertConfigArgs(_Args):
    """Go back to a configuration this device ran before (rollouts roll back with it)."""

    revision: str = Field(..., pattern=r"^[0-9a-f]{16}$", description="Config revision.")


class RestartArgs(_Args):
    """Restart the agent process (systemd brings it back)."""

    delay_s: float = Field(1.0, ge=0.0, le=300.0, description="Wait before restarting, s.")


class SetPowerModeArgs(_Args):
    """Ask the privileged helper for an nvpmodel mode; the scheduler re-plans after it."""

    mode: str = Field(..., min_length=1, max_length=32, description="Mode id or name.")


class RebuildEnginesArgs(_Args):
    """Rebuild TensorRT engines (all, or the named models)."""

    models: List[str] = Field(default_factory=list, description="Model names ([] = all).")


class FetchModelArgs(_Args):
    """Download a model file, verify its sha256 and install it."""

    name: str = Field(..., pattern=r"^[a-z0-9_]{1,64}$", description="Model name.")
    url: str = Field(..., pattern=r"^https?://\S{1,2000}$", description="Download URL.")
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="Expected sha256 (hex).")
    calibration_url: str = Field(
        "", pattern=r"^(https?://\S{1,2000})?$",
        description="Optional: the INT8 calibration cache for this model, installed into the "
        "device's calibration store (as NVIDIA's; a gated local calibration still wins).")


class CameraArgs(_Args):
    """Add or update one camera (the complete camera section)."""

    camera: Dict[str, Any] = Field(..., description="A [[cameras]] entry.")
    health_timeout_s: float = Field(30.0, gt=0.0, le=3600.0, description="See set_config.")


class RemoveCameraArgs(_Args):
    """Remove a camera."""

    camera_id: str = Field(..., min_length=1, max_length=64, description="Camera id.")


class GeometryArgs(_Args):
    """Replace the zones or lines of one camera."""

    camera_id: str = Field(..., min_length=1, max_length=64, description="Camera id.")
    items: List[Dict[str, Any]] = Field(..., description="The new zones / lines.")


class SetLogLevelArgs(_Args):
    """Change the log level now (not persisted across restarts)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(..., description="Level.")


class SnapshotArgs(_Args):
    """One JPEG from a camera; refused unless snapshots are enabled on the device."""

    camera_id: str = Field(..., min_length=1, max_length=64, description="Camera id.")


COMMANDS: Dict[str, Tuple[Type[_Args], str]] = {
    "ping": (NoArgs, "Answer with the device card; proves the command path works."),
    "rebirth": (NoArgs, "Re-publish status, the device card, discovery and retained state."),
    "get_config": (GetConfigArgs, "Return the running configuration and its revision."),
    "set_config": (SetConfigArgs, "Validate, apply as a reload, roll back if not healthy."),
    "patch_config": (PatchConfigArgs, "Merge sections into the config, then as set_config."),
    "revert_config": (RevertConfigArgs, "Apply an earlier configuration by revision."),
    "reload": (NoArgs, "Re-read the configuration file (as SIGHUP)."),
    "restart": (RestartArgs, "Restart the agent process."),
    "set_power_mode": (SetPowerModeArgs, "Change the nvpmodel power mode."),
    "rebuild_engines": (RebuildEnginesArgs, "Rebuild TensorRT engines, with progress."),
    "fetch_model": (FetchModelArgs, "Download and verify a model, with progress."),
    "add_camera": (CameraArgs, "Add a camera (health-checked, rolled back on failure)."),
    "update_camera": (CameraArgs, "Replace a camera's settings (health-checked)."),
    "remove_camera": (RemoveCameraArgs, "Remove a camera."),
    "set_zones": (GeometryArgs, "Replace a camera's zones."),
    "set_lines": (GeometryArgs, "Replace a camera's counting lines."),
    "set_log_level": (SetLogLevelArgs, "Change the log level."),
    "snapshot": (SnapshotArgs, "Return one JPEG (opt-in; off by default)."),
}


def command_schemas() -> Dict[str, Dict[str, Any]]:
    """JSON schemas for the AsyncAPI document: the request and reply envelopes, and the
    ``args`` of every command keyed ``<command>.args``."""
    schemas: Dict[str, Dict[str, Any]] = {
        "CommandRequest": CommandRequest.model_json_schema(),
        "CommandReply": CommandReply.model_json_schema(),
    }
    for name, (model, description) in COMMANDS.items():
        schema = model.model_json_schema()
        schema["description"] = description
        schemas[f"{name}.args"] = schema
    return schemas
