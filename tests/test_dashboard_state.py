"""FleetState, the pure core: statuses and late wills, staleness, schema failures, caps, site
totals, history buckets, track lifecycle."""

from __future__ import annotations

import json
from typing import List

import pytest

from edge_agent.dashboard.demo_traffic import device_tick, status_message
from edge_agent.dashboard.device_state import Limits
from edge_agent.dashboard.fleet_state import FleetState, site_rules
from edge_agent.dashboard.history import BucketedHistory
from edge_agent.dashboard.views import SiteTotals, device_card, device_detail
from edge_agent.events.topics import Topics


class Clock:
    def __init__(self) -> None:
        self.now_s = 1_000_000.0

    def __call__(self) -> float:
        return self.now_s


def feed(fleet: FleetState, device: str, index: int = 0, tick: int = 0) -> None:
    topics = Topics("edge-agent", device)
    fleet.handle(*status_message(topics, device, "online", 2)[:2])
    for topic, payload, _ in device_tick(topics, device, index, tick):
        fleet.handle(topic, payload)


def test_a_late_will_of_an_older_session_is_ignored_and_a_current_one_is_offline() -> None:
    clock = Clock()
    fleet = FleetState("edge-agent", clock=clock)
    feed(fleet, "d1")
    topics = Topics("edge-agent", "d1")
    will_old = json.loads(status_message(topics, "d1", "offline", 1)[1])
    fleet.handle(topics.status, json.dumps(will_old).encode())
    device = fleet.devices["d1"]
    assert device.status == "online" and not device.is_stale(clock(), fleet.stale_after_s)
    fleet.handle(*status_message(topics, "d1", "offline", 2)[:2])
    assert device.status == "offline" and device.is_stale(clock(), fleet.stale_after_s)
    card = device_card(fleet, device, clock())
    assert card["stale"] and card["people"] > 0, "last values are kept, marked stale"


def test_silence_past_the_limit_is_stale_even_while_online() -> None:
    clock = Clock()
    fleet = FleetState("edge-agent", stale_after_s=30.0, clock=clock)
    feed(fleet, "d1")
    clock.now_s += 29.0
    assert not fleet.devices["d1"].is_stale(clock(), 30.0)
    clock.now_s += 2.0
    assert device_card(fleet, fleet.devices["d1"], clock())["stale"]


def test_a_payload_failing_its_schema_is_counted_and_not_applied() -> None:
    fleet = FleetState("edge-agent", clock=Clock())
    feed(fleet, "d1", index=1, tick=0)
    topics = Topics("edge-agent", "d1")
    zone = fleet.devices["d1"].cameras["cam1"].zones["left"]
    before = zone.people
    fleet.handle(topics.zone_count("cam1", "left"), b'{"camera_id":"cam1","zone":"left",'
                 b'"count":-1,"active":0,"ts":1,"restored":false,"standin":false}')
    fleet.handle(topics.telemetry, b"not json")
    device = fleet.devices["d1"]
    assert device.schema_errors == 2 and zone.people == before
    assert "telemetry" in device.last_error
    fleet.handle(topics.zone_count("cam1", "left"), b'{"camera_id":"cam1","zone":"left",'
                 b'"count":1,"active":0,"ts":1,"restored":false,"standin":false,"x":1}')
    assert device.schema_errors == 3 and "x" in device.last_error


def test_caps_bound_devices_and_zones() -> None:
    fleet = FleetState("edge-agent", limits=Limits(max_devices=2, max_zones_per_camera=1),
                       clock=Clock())
    for name in ("a", "b", "c"):
        feed(fleet, name)
    assert sorted(fleet.devices) == ["a", "b"] and fleet.ignored_devices > 0
    assert all(len(c.zones) == 1 for d in fleet.devices.values() for c in d.cameras.values())
    assert fleet.ignored_names > 0


def test_site_totals_sum_devices_and_cameras_by_label() -> None:
    clock = Clock()
    fleet = FleetState("edge-agent", site_rules(["north=n-*", "south=*"]), clock=clock)
    for index, name in enumerate(["n-1", "n-2", "s-1"]):
        feed(fleet, name, index=index, tick=3)
    sites = SiteTotals().compute(fleet, clock())
    assert set(sites) == {"north", "south"}
    for site, names in (("north", ["n-1", "n-2"]), ("south", ["s-1"])):
        cards = [device_card(fleet, fleet.devices[n], clock()) for n in names]
        assert sites[site]["people"] == sum(c["people"] for c in cards)
        assert sites[site]["in"] == sum(line.count_in for n in names
                                        for cam in fleet.devices[n].cameras.values()
                                        for line in cam.lines.values())
        assert sites[site]["devices"] == len(names) == sites[site]["online"]


def test_bad_site_rule_names_the_option() -> None:
    with pytest.raises(ValueError, match="--site 'lobby' is not SITE=DEVICE_GLOB"):
        site_rules(["lobby"])


def test_history_keeps_one_point_per_bucket_for_the_last_hour() -> None:
    history = BucketedHistory(window_s=60.0, bucket_s=10.0)
    for second in range(0, 120):
        history.add(1000.0 + second, float(second))
    points = history.points(1119.0)
    assert [p[0] for p in points] == [1060.0, 1070.0, 1080.0, 1090.0, 1100.0, 1110.0]
    assert points[-1][1] == 119.0 and history.latest() == 119.0
    with pytest.raises(ValueError, match="bucket_s"):
        BucketedHistory(window_s=1.0, bucket_s=10.0)


def test_tracks_appear_end_and_expire() -> None:
    clock = Clock()
    fleet = FleetState("edge-agent", clock=clock)
    feed(fleet, "d1", index=3, tick=1)
    camera = fleet.devices["d1"].cameras["cam1"]
    ids: List[str] = sorted(camera.tracks)
    assert ids and camera.frame_width == 640
    detail = device_detail(fleet, fleet.devices["d1"], clock())
    assert len(detail["cameras"]["cam1"]["tracks"]) == len(ids)
    clock.now_s += fleet.limits.track_timeout_s + 1
    fleet.expire_tracks()
    assert not camera.tracks


def test_pose_class_counts_reach_the_zone_view_and_the_exporter() -> None:
    from prometheus_client import generate_latest
    from prometheus_client.core import CollectorRegistry

    from edge_agent.dashboard.exporter import FleetCollector
    from edge_agent.events.payloads import to_json_bytes
    from edge_agent.events.pose_payloads import zone_count_payloads

    clock = Clock()
    fleet = FleetState("edge-agent", clock=clock)
    feed(fleet, "d1")
    topics = Topics("edge-agent", "d1")
    for payload in zone_count_payloads("cam1", {"door": {"sitting": 2, "standing": 1}},
                                       clock(), True):
        fleet.handle(topics.zone_pose("cam1", payload.zone), to_json_bytes(payload))
    zone = device_detail(fleet, fleet.devices["d1"], clock())["cameras"]["cam1"]["zones"]["door"]
    assert zone["poses"] == {"sitting": 2, "standing": 1}
    registry = CollectorRegistry()
    registry.register(FleetCollector(fleet, None))
    text = generate_latest(registry).decode()
    assert ('edge_agent_zone_pose_people{camera="cam1",device="d1",pose="sitting",zone="door"} 2.0'
            in text)
