"""SegIC and human-parts settings: defaults are safe (off, low rate) and mistakes are named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edge_agent.settings.segic import HumanPartsSettings, SegicSettings

FILES = [{"image": "a.png", "mask": "a_mask.png"}]


def test_defaults_are_off_and_low_rate() -> None:
    segic = SegicSettings()
    assert not segic.enabled and segic.rate_hz == 0.2 and segic.prompts == []
    parts = HumanPartsSettings()
    assert not parts.enabled and parts.model == "human_parts" and parts.upstream == "reid"


def test_duplicate_prompt_ids_and_cameras_are_refused() -> None:
    prompt = {"id": "cart", "cameras": ["door"], "examples": FILES}
    with pytest.raises(ValidationError, match="used more than once"):
        SegicSettings(prompts=[prompt, prompt])
    with pytest.raises(ValidationError, match="name a camera twice"):
        SegicSettings(prompts=[{"id": "x", "cameras": ["door", "door"], "examples": FILES}])


def test_limits_name_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        SegicSettings(rate_hz=0)
    assert "rate_hz" in str(err.value)
    with pytest.raises(ValidationError) as err:
        SegicSettings(prompts=[{"id": "x", "cameras": ["door"], "examples": FILES * 5}])
    assert "examples" in str(err.value)
    with pytest.raises(ValidationError):
        SegicSettings(unknown_key=1)
