"""Topic layout: the strings consumers subscribe to, and ids that would break them."""

from __future__ import annotations

import pytest

from edge_agent.events.topics import Topics


def test_layout() -> None:
    topics = Topics("edge-agent", "jetson-1")
    assert topics.root == "edge-agent/jetson-1"
    assert topics.status == "edge-agent/jetson-1/status"
    assert topics.available == "edge-agent/jetson-1/available"
    assert topics.telemetry == "edge-agent/jetson-1/telemetry"
    assert topics.mask("lobby") == "edge-agent/jetson-1/lobby/mask"
    assert topics.event("lobby", "camera") == "edge-agent/jetson-1/lobby/camera"


@pytest.mark.parametrize("bad", ["", "a/b", "a+", "#", "x\x00"])
def test_bad_levels_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        Topics(bad, "device")
    with pytest.raises(ValueError):
        Topics("prefix", bad)
    with pytest.raises(ValueError):
        Topics("prefix", "device").mask(bad)
    with pytest.raises(ValueError):
        Topics("prefix", "device").event("cam", bad)


def test_error_names_the_field() -> None:
    with pytest.raises(ValueError, match="camera id 'a/b'"):
        Topics("p", "d").mask("a/b")
