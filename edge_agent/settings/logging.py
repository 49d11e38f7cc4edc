"""Logging settings."""

from __future__ import annotations

from pydantic import Field
from typing_extensions import Literal

from edge_agent.settings.base import StrictModel


class LoggingSettings(StrictModel):
    """What the agent says and how often."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    stats_interval_s: float = Field(
        1.0,
        ge=0.0,
        description=("Seconds between status lines (fps, inference ms, events, drops); 0 = never."),
    )
