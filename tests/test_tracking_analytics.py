"""Zones, dwell, line counters with resets, state files, payloads and config refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_agent.analytics.counting import CameraCounting
from edge_agent.analytics.geometry import crossing, foot_points, points_in_polygon
from edge_agent.analytics.lines import LineCounters, LineSpec, LineTotals
from edge_agent.analytics.occupancy import TrackPoint
from edge_agent.analytics.state import StateStore
from edge_agent.analytics.zone_coverage import Zone
from edge_agent.events.track_payloads import decode_embedding, encode_embedding
from edge_agent.service.startup_checks import check_file
from edge_agent.settings.tracking import polygon_problem

SQUARE = ((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5))


def test_foot_point_and_polygon() -> None:
    feet = foot_points(np.array([[100, 50, 140, 250]]), (400, 500))
    np.testing.assert_allclose(feet, [[0.3, 0.5]])
    inside = points_in_polygon(np.array([[0.25, 0.25], [0.75, 0.25], [0.49, 0.01]]), SQUARE)
    assert inside.tolist() == [True, False, True]


def test_crossing_directions_and_segment_ends() -> None:
    start, end = (0.5, 0.2), (0.5, 0.8)  # pointing down the screen
    assert crossing((0.6, 0.5), (0.4, 0.5), start, end) == "in"  # right of it is screen-left
    assert crossing((0.4, 0.5), (0.6, 0.5), start, end) == "out"
    assert crossing((0.4, 0.9), (0.6, 0.9), start, end) is None  # passes below the line
    assert crossing((0.4, 0.5), (0.45, 0.5), start, end) is None


def test_dwell_lost_tracks_and_active_counts() -> None:
    counting = CameraCounting([Zone("a", SQUARE)], [], 0.05, 0.0, 0.0)
    step = counting.update(0.0, [TrackPoint("t1", (0.2, 0.2), 0.1),
                                 TrackPoint("t2", (0.3, 0.3), 0.0)])
    assert step.counts["a"].current == 2 and step.counts["a"].active == 1
    step = counting.update(2.0, [TrackPoint("t1", (0.9, 0.9), 0.0, lost=True)])
    assert step.after["t1"] == ["a"]  # an occluded person stays in the zone
    step = counting.update(3.0, [TrackPoint("t1", (0.9, 0.9), 0.1)])
    assert step.before["t1"] == ["a"] and step.after["t1"] == []
    assert counting.forget("t1", 5.0) == {"a": 3.0}
    assert counting.occupancy.tracked_uids == 1  # only t2 is left


def test_line_counters_reset_on_interval_and_restore() -> None:
    spec = LineSpec("door", (0.5, 0.0), (0.5, 1.0), reset_interval_s=100.0)
    lines = LineCounters([spec], now_s=150.0)
    assert lines.totals["door"].since_ts == 100.0
    lines.observe("t", (0.4, 0.5))
    lines.observe("t", (0.6, 0.5))
    assert lines.totals["door"].count_out == 1
    assert lines.roll(199.0) == [] and lines.roll(201.0) == ["door"]
    assert lines.totals["door"].count_out == 0 and lines.totals["door"].since_ts == 200.0
    fresh = LineCounters([spec], now_s=250.0)
    assert fresh.restore("door", LineTotals(3, 4, 200.0), 250.0)
    assert not fresh.restore("door", LineTotals(3, 4, 100.0), 250.0)  # older interval


def test_state_store_round_trip_and_bad_file(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s")
    assert store.load() == {}
    store.save({"cam": {"zones": {}, "lines": {}}}, 12.0)
    assert store.load()["saved_ts"] == 12.0
    store.path.write_text("{broken")
    assert store.load() == {}


def test_stale_state_is_not_restored_but_lines_are() -> None:
    saved = {"zones": {"a": {"current": 4, "active": 1}},
             "lines": {}}
    fresh = CameraCounting([Zone("a", SQUARE)], [], 0.05, 10.0, 1000.0)
    fresh.restore(saved, 990.0, 1000.0, 300.0)
    counts = fresh.published_counts(1000.0)
    assert counts is not None and counts["a"].current == 4
    old = CameraCounting([Zone("a", SQUARE)], [], 0.05, 10.0, 1000.0)
    old.restore(saved, 100.0, 1000.0, 300.0)
    assert old.published_counts(1000.0) is None  # nothing trustworthy: publish nothing


def test_embedding_round_trip() -> None:
    v = np.random.default_rng(1).normal(size=256).astype(np.float32)
    v /= np.linalg.norm(v)
    text = encode_embedding(v)
    assert len(text) == 684
    np.testing.assert_allclose(decode_embedding(text), v, atol=1e-3)


def test_polygon_problems() -> None:
    assert polygon_problem(SQUARE) is None
    bowtie = ((0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0))
    assert "self-intersecting" in str(polygon_problem(bowtie))
    assert "no area" in str(polygon_problem(((0, 0), (0.5, 0.5), (1, 1))))


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ('[[cameras]]\nid = "c"\nurl = "x.avi"\n[[cameras.zones]]\nname = "z"\n'
         "polygon = [[0, 0], [1, 1], [1, 0], [0, 1]]\n", "cameras[0].zones[0].polygon",
         "self-intersecting"),
        ('[[cameras]]\nid = "c"\nurl = "x.avi"\n[[cameras.lines]]\nname = "l"\n'
         "start = [0, 0]\nend = [1.5, 1]\n", "cameras[0].lines[0].end", "outside 0..1"),
        ('[[cameras]]\nid = "c"\nurl = "x.avi"\n[[cameras.lines]]\nname = "l"\n'
         "start = [0, 0]\nend = [1, 1]\n[[cameras.lines]]\nname = \"l\"\n"
         "start = [0, 0]\nend = [1, 1]\n", "cameras[0]", "lines: names must be unique"),
        ('[[cameras]]\nid = "c"\nurl = "x.avi"\n[[cameras.zones]]\nname = "z"\n'
         "polygon = [[0, 0], [1, 0], [1, 1]]\n[[cameras.zones]]\nname = \"z\"\n"
         "polygon = [[0, 0], [1, 0], [1, 1]]\n", "cameras[0]", "zone names must be unique"),
        ("[models.tracking]\nembedding_size = 128\n", "models.tracking.embedding_size",
         "outputs 256-d"),
        ('[models.tracking]\ncluster_mode = "kmeans"\n', "models.tracking.cluster_mode",
         "dbscan"),
        ('[[cameras]]\nid = "status"\nurl = "x.avi"\n', "cameras[0].id",
         "camera id 'status' is a topic level the agent publishes itself"),
        ('[[cameras]]\nid = "Telemetry"\nurl = "x.avi"\n', "cameras[0].id",
         "reserved: active, available, cmd, count, in, line, mask, occupancy, out, person, "
         "status, telemetry, track, zone"),
        ('[[cameras]]\nid = "c"\nurl = "x.avi"\n[[cameras.zones]]\nname = "cmd"\n'
         "polygon = [[0, 0], [1, 0], [1, 1]]\n", "cameras[0].zones[0].name",
         "zone name 'cmd' is a topic level"),
        ('[[cameras]]\nid = "c"\nurl = "x.avi"\n[[cameras.lines]]\nname = "count"\n'
         "start = [0, 0]\nend = [1, 1]\n", "cameras[0].lines[0].name", "line name 'count'"),
        ("[models.tracking]\nhigh_score = 0.3\nlow_score = 0.4\n", "models.tracking.low_score",
         "above high_score"),
    ],
)
def test_bad_tracking_config_is_refused_with_the_field(
    tmp_path: Path, text: str, path: str, words: str
) -> None:
    file = tmp_path / "agent.toml"
    file.write_text(text)
    problems = check_file(file)
    rendered = "\n".join(p.render() for p in problems)
    assert any(p.path == path for p in problems), rendered
    assert words in rendered
    json.dumps(rendered)
