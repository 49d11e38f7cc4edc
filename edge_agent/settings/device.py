"""Device settings: who this box is."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from edge_agent.settings.base import ID_PATTERN, StrictModel


class DeviceSettings(StrictModel):
    """Who this box is."""

    id: str = Field(
        "auto",
        description=(
            "Device id used in MQTT topics and client id. 'auto' derives it from "
            "/etc/machine-id; otherwise letters, digits, '-' and '_' (at most 64)."
        ),
    )
    name: str = Field("", description="Human-readable name shown in dashboards; free text.")
    profile: str = Field(
        "",
        description=(
            "Device profile (engines/devices/<name>.toml) to use instead of the one detected "
            "from /proc/device-tree; '' = detect."
        ),
    )

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if value != "auto" and not re.match(ID_PATTERN, value):
            raise ValueError(
                "must be 'auto' or 1-64 letters, digits, '-' or '_' starting with a letter or "
                "digit (it becomes an MQTT topic level)"
            )
        return value
