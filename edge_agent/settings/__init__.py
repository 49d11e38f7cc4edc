"""Configuration: one pydantic model per concern, read from TOML plus EDGE_AGENT_* variables.

Validated once at start-up (and again on reload); runtime state never lives here. Every
field has a description that names its unit and what to set, because `config schema`,
`config check` and `deploy/agent.example.toml` are generated from or checked against them.
Environment overrides use `__` between levels, e.g. EDGE_AGENT_MQTT__HOST=broker.local.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Mapping, Optional, Tuple, Type

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from edge_agent.settings.cameras import CameraSettings, ZoneSettings
from edge_agent.settings.device import DeviceSettings
from edge_agent.settings.fleet import FleetSettings
from edge_agent.settings.logging import LoggingSettings
from edge_agent.settings.models import ModelsSettings, SemSegSettings
from edge_agent.settings.mqtt import MqttSettings
from edge_agent.settings.outbox import OutboxSettings
from edge_agent.settings.provenance import LIST_ITEM_VARIABLE
from edge_agent.settings.service import ServiceSettings

DEFAULT_CONFIG_PATH = Path("/etc/edge-agent/agent.toml")
LIST_FIELDS = ("cameras",)
"""Settings that are lists of tables; their items can be set one by one from the environment
(EDGE_AGENT_CAMERAS__0__URL), applied by config_file.load_settings before validation."""

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "AgentSettings",
    "CameraSettings",
    "DeviceSettings",
    "FleetSettings",
    "LoggingSettings",
    "ModelsSettings",
    "MqttSettings",
    "OutboxSettings",
    "SemSegSettings",
    "ServiceSettings",
    "ZoneSettings",
    "enabled_cameras",
]


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
    outbox: OutboxSettings = Field(
        default_factory=OutboxSettings, description="On-disk queue of undelivered messages."
    )
    logging: LoggingSettings = Field(default_factory=LoggingSettings, description="Logging.")
    service: ServiceSettings = Field(
        default_factory=ServiceSettings, description="systemd readiness and stall watchdog."
    )
    fleet: FleetSettings = Field(
        default_factory=FleetSettings,
        description="Remote commands over MQTT (edge-fleet): site, signing, rate limits.",
    )

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
        """Environment variables override the file (passed as init values).

        Variables that address one list item are left to config_file.load_settings, which
        applies them to the file's list: pydantic-settings would replace the whole list.
        """
        return (_EnvWithoutListItems(settings_cls), init_settings)


class _EnvWithoutListItems(EnvSettingsSource):
    """The EDGE_AGENT_* source minus EDGE_AGENT_<LIST>__<index>__... variables."""

    def _load_env_vars(self) -> Mapping[str, Optional[str]]:
        return {name: value for name, value in super()._load_env_vars().items()
                if not LIST_ITEM_VARIABLE.match(name)}


def enabled_cameras(settings: AgentSettings) -> List[CameraSettings]:
    """Cameras the agent should open."""
    return [camera for camera in settings.cameras if camera.enabled]
