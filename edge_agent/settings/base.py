"""Shared pieces of the settings models: the strict base class and id rules."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
TOPIC_LEVEL_FORBIDDEN = re.compile(r"[+#/\x00]")


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, so typos fail loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True)
