"""Zone coverage: share of each polygon covered by the person mask."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.analytics.zone_coverage import Zone, ZoneCoverageMeter, rasterize

LEFT = Zone("left", ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)))
RIGHT = Zone("right", ((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)))


def test_rasterize_half_plane() -> None:
    mask = rasterize(LEFT.polygon, 100, 50)
    assert mask.shape == (50, 100)
    assert abs(int(mask.sum()) - 50 * 50) <= 50  # boundary column may go either way


def test_coverage_of_halves() -> None:
    person = np.zeros((544, 960), dtype=bool)
    person[:, :480] = True
    values = ZoneCoverageMeter([LEFT, RIGHT]).measure(person)
    assert [v.name for v in values] == ["left", "right"]
    assert values[0].coverage == pytest.approx(1.0, abs=0.01)
    assert values[1].coverage == pytest.approx(0.0, abs=0.01)


def test_coverage_is_resolution_independent() -> None:
    mid = Zone("mid", ((0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)))
    zones = ZoneCoverageMeter([mid])
    for width, height in [(960, 544), (240, 136)]:
        person = np.zeros((height, width), dtype=bool)
        person[:, : width // 2] = True
        assert zones.measure(person)[0].coverage == pytest.approx(0.5, abs=0.03)


def test_tiny_zone_still_covers_a_pixel() -> None:
    """A zone smaller than a pixel is rasterised to its pixel, never to an empty area."""
    tiny = Zone("tiny", ((0.5, 0.5), (0.5001, 0.5), (0.5, 0.5001)))
    person = np.zeros((10, 10), dtype=bool)
    assert ZoneCoverageMeter([tiny]).measure(person)[0].coverage == 0.0
    person[5, 5] = True
    assert ZoneCoverageMeter([tiny]).measure(person)[0].coverage == 1.0


def test_no_zones() -> None:
    assert ZoneCoverageMeter([]).measure(np.ones((4, 4), dtype=bool)) == []
