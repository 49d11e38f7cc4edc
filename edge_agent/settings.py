"""Configuration: one pydantic model per concern, read from TOML plus EDGE_AGENT_* variables.

Validated once at start-up (and again on reload); runtime state never lives here. Every
field has a description that names its unit and what to set, because `config schema`,
`config check` and `deploy/agent.example.toml` are generated from or checked against them.
Environment overrides use `__` between levels, e.g. EDGE_AGENT_MQTT__HOST=broker.local.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Type

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from typing_extensions import Literal

DEFAULT_CONFIG_PATH = Path("/etc/edge-agent/agent.toml")
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_TOPIC_LEVEL_FORBIDDEN = re.compile(r"[+#/\x00]")


class _Model(BaseModel):
    """Base for every config section: unknown keys are errors, so typos fail loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceSettings(_Model):
    """Who this box is."""

    id: str = Field(
        "auto",
        description=(
            "Device id used in MQTT topics and client id. 'auto' derives it from "
            "/etc/machine-id; otherwise letters, digits, '-' and '_' (at most 64)."
        ),
    )
    name: str = Field("", description="Human-readable name shown in dashboards; free text.")

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if value != "auto" and not re.match(_ID_PATTERN, value):
            raise ValueError(
                "must be 'auto' or 1-64 letters, digits, '-' or '_' starting with a letter or "
                "digit (it becomes an MQTT topic level)"
            )
        return value


class ZoneSettings(_Model):
    """A region of the image whose person coverage is reported."""

    name: str = Field(
        ..., pattern=_ID_PATTERN, description="Zone name, unique per camera; used in topics."
    )
    polygon: List[Tuple[float, float]] = Field(
        ...,
        min_length=3,
        description=(
            "Polygon vertices as [x, y] pairs in normalized image coordinates (0..1, origin "
            "top-left), at least 3."
        ),
    )

    @field_validator("polygon")
    @classmethod
    def _check_range(cls, value: List[Tuple[float, float]]) -> List[Tuple[float, float]]:
        for index, (x, y) in enumerate(value):
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(
                    f"vertex {index} = [{x}, {y}] is outside 0..1; use normalized coordinates "
                    "(pixel x / image width, pixel y / image height)"
                )
        return value


class CameraSettings(_Model):
    """One video source and what to do with it."""

    id: str = Field(..., pattern=_ID_PATTERN, description="Camera id, unique; used in topics.")
    url: str = Field(
        ...,
        description=(
            "Where frames come from: a file path or file:// URL, /dev/videoN or "
            "v4l2:///dev/videoN, "
            "rtsp://, http(s)://, or csi://N (jetson backend only)."
        ),
    )
    backend: Literal["opencv", "jetson"] = Field(
        "opencv",
        description=(
            "Capture library: 'opencv' (files, V4L2, RTSP/HTTP; works everywhere) or 'jetson' "
            "(jetson-utils videoSource, hardware decode and CSI cameras on a Jetson)."
        ),
    )
    enabled: bool = Field(True, description="Set false to keep the camera configured but idle.")
    on_eof: Literal["loop", "stop"] = Field(
        "loop",
        description="At the end of a file: 'loop' restarts it, 'stop' ends this camera.",
    )
    width: int = Field(
        0, ge=0, description="Requested capture width in pixels; 0 = source default."
    )
    height: int = Field(
        0, ge=0, description="Requested capture height in pixels; 0 = source default."
    )
    max_fps: float = Field(
        0.0,
        ge=0.0,
        description=(
            "Upper bound on frames read per second (files are otherwise read as fast as "
            "possible); 0 = no limit."
        ),
    )
    reconnect_initial_s: float = Field(
        1.0, gt=0.0, description="First wait after a lost or failed stream, in seconds."
    )
    reconnect_max_s: float = Field(
        30.0, gt=0.0, description="Longest wait between reconnect attempts, in seconds."
    )
    read_timeout_s: float = Field(
        10.0,
        gt=0.0,
        description="A stream that delivers no frame for this long is reopened, in seconds.",
    )
    zones: List[ZoneSettings] = Field(
        default_factory=list, description="Zones whose person coverage is published."
    )

    @model_validator(mode="after")
    def _check_camera(self) -> CameraSettings:
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError(
                "reconnect_max_s must be >= reconnect_initial_s "
                f"(got {self.reconnect_max_s} < {self.reconnect_initial_s})"
            )
        names = [zone.name for zone in self.zones]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"zone names must be unique per camera; repeated: {duplicates}")
        return self


class SemSegSettings(_Model):
    """PeopleSemSegNet: person masks and zone coverage."""

    enabled: bool = Field(True, description="Run person segmentation on every camera.")
    variant: Literal["shuffleseg", "vanilla_unet"] = Field(
        "shuffleseg",
        description=(
            "Model variant: 'shuffleseg' (fast, for Nano/NX) or 'vanilla_unet' (more accurate, "
            "for Orin)."
        ),
    )
    rate_hz: float = Field(
        2.0,
        ge=0.0,
        description=(
            "Mask events per second per camera (each is one inference); 0 = as fast as "
            "the device allows."
        ),
    )
    mask_width: int = Field(
        240, ge=8, le=3840, description="Width in pixels of the mask carried in mask events."
    )
    mask_height: int = Field(
        136, ge=8, le=2160, description="Height in pixels of the mask carried in mask events."
    )


class ModelsSettings(_Model):
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
    semseg: SemSegSettings = Field(
        default_factory=SemSegSettings, description="PeopleSemSegNet settings."
    )


class MqttSettings(_Model):
    """Broker connection and topic layout."""

    host: str = Field("127.0.0.1", min_length=1, description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker TCP port (8883 for TLS).")
    protocol: Literal["5", "3.1.1"] = Field(
        "5",
        description=(
            "MQTT protocol version. '5' reports refused publishes (e.g. ACL denials); "
            "'3.1.1' only for brokers without MQTT 5."
        ),
    )
    client_id: str = Field(
        "", description="MQTT client id; empty = '<topic_prefix>-<device id>' (unique per device)."
    )
    topic_prefix: str = Field(
        "edge-agent",
        min_length=1,
        description="First topic level; topics are <topic_prefix>/<device id>/... .",
    )
    keepalive_s: int = Field(30, ge=5, le=65535, description="MQTT keepalive in seconds.")
    qos: Literal[0, 1] = Field(
        1, description="QoS of events; 1 (at least once) is needed not to lose events."
    )
    username: str = Field("", description="Username for password authentication; empty = none.")
    password: str = Field(
        "", description="Password for `username`; prefer EDGE_AGENT_MQTT__PASSWORD to a file."
    )
    connect_timeout_s: float = Field(
        5.0, gt=0.0, description="How long start-up waits for the first connection, in seconds."
    )

    @field_validator("topic_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if _TOPIC_LEVEL_FORBIDDEN.search(value):
            raise ValueError("must not contain '/', '+', '#' or NUL (it is one topic level)")
        return value

    @model_validator(mode="after")
    def _check_auth(self) -> MqttSettings:
        if self.password and not self.username:
            raise ValueError("password is set but username is empty; set both or neither")
        return self


class LoggingSettings(_Model):
    """What the agent says and how often."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    stats_interval_s: float = Field(
        1.0,
        ge=0.0,
        description=("Seconds between status lines (fps, inference ms, events, drops); 0 = never."),
    )


class AgentSettings(BaseSettings):
    """The whole configuration of one agent."""

    model_config = SettingsConfigDict(
        env_prefix="EDGE_AGENT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    device: DeviceSettings = Field(default_factory=DeviceSettings, description="This device.")
    cameras: List[CameraSettings] = Field(
        default_factory=list, description="Video sources; each one runs in its own thread."
    )
    models: ModelsSettings = Field(default_factory=ModelsSettings, description="Models.")
    mqtt: MqttSettings = Field(default_factory=MqttSettings, description="MQTT broker.")
    logging: LoggingSettings = Field(default_factory=LoggingSettings, description="Logging.")

    @model_validator(mode="after")
    def _check_cameras(self) -> AgentSettings:
        ids = [camera.id for camera in self.cameras]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique; repeated: {duplicates}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: Type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> Tuple[PydanticBaseSettingsSource, ...]:
        """Environment variables override the file (passed as init values)."""
        return (env_settings, init_settings)


def settings_from_mapping(data: Dict[str, Any]) -> AgentSettings:
    """Build settings from a parsed TOML document plus the environment."""
    return AgentSettings(**data)


def enabled_cameras(settings: AgentSettings) -> List[CameraSettings]:
    """Cameras the agent should open."""
    return [camera for camera in settings.cameras if camera.enabled]


def optional_path(value: Optional[str]) -> Optional[Path]:
    """Turn an empty string from the environment into None."""
    return Path(value) if value else None
