"""`exporter`: Prometheus text over HTTP from a real broker's traffic, parsed with
prometheus_client's own parser and compared with the documents that were published."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, Tuple

import paho.mqtt.client as mqtt
import pytest
from mosquitto_broker import MosquittoBroker
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from prometheus_client.parser import text_string_to_metric_families

from edge_agent.dashboard.demo_traffic import ZONES, device_tick, status_message
from edge_agent.dashboard.device_state import Limits
from edge_agent.dashboard.exporter import serve_metrics
from edge_agent.dashboard.fleet_state import FleetState
from edge_agent.dashboard.mqtt_source import BrokerLink, BrokerSettings
from edge_agent.events.topics import Topics
from edge_agent.events.track_payloads import ZoneCountPayload

Samples = Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]


def scrape(url: str) -> Tuple[Samples, int]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = answer.read().decode("utf-8")
    samples: Samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, len(body.encode("utf-8"))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def exporter(broker: MosquittoBroker) -> Iterator[Tuple[str, FleetState]]:
    fleet = FleetState("edge-agent", [("dev-*", "lobby")],
                       limits=Limits(max_zones_per_camera=2))
    link = BrokerLink(BrokerSettings("127.0.0.1", broker.port), fleet)
    server = serve_metrics(fleet, link, "127.0.0.1", 0)
    link.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics", fleet
    finally:
        link.stop()
        server.shutdown()
        server.server_close()


def wait_for_metric(url: str, name: str, labels: Dict[str, str], want: float) -> Samples:
    deadline = time.monotonic() + 10.0
    samples: Samples = {}
    while time.monotonic() < deadline:
        samples, _ = scrape(url)
        if samples.get((name, tuple(sorted(labels.items())))) == want:
            return samples
        time.sleep(0.05)
    raise AssertionError(f"{name}{labels} never became {want}; last scrape: {samples}")


def test_scrape_matches_what_the_devices_published(
        broker: MosquittoBroker, exporter: Tuple[str, FleetState]) -> None:
    url, _ = exporter
    topics = Topics("edge-agent", "dev-a")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="dev-a",
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        docs = {}
        raw = {}
        for topic, payload, retain in [status_message(topics, "dev-a", "online", 1)] + \
                device_tick(topics, "dev-a", 1, 4):
            client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
            docs[topic] = json.loads(payload)
            raw[topic] = payload
        # a third zone is past the cap of 2: counted, never a series
        extra = ZoneCountPayload(camera_id="cam1", zone="extra", count=1, active=0, ts=1.0,
                                 restored=False, standin=False)
        client.publish(topics.zone_count("cam1", "extra"), extra.model_dump_json(), qos=1,
                       retain=True).wait_for_publish(5)
        last = docs[topics.line_count("cam1", "door")]
        samples = wait_for_metric(url, "edge_agent_line_crossings_total",
                                  {"device": "dev-a", "camera": "cam1", "line": "door",
                                   "direction": "in"}, float(last["in"]))
        samples = wait_for_metric(url, "edge_agent_exporter_ignored_names_total", {}, 1.0)
        # Telemetry is periodic and the exporter subscribes at QoS 0 (a missed report is
        # replaced by the next one): send it again, as a device would, until it shows.
        fps = docs[topics.telemetry]["cameras"]["cam1"]["fps"]
        for attempt in range(3):
            try:
                samples = wait_for_metric(url, "edge_agent_camera_fps",
                                          {"device": "dev-a", "camera": "cam1"}, fps)
                break
            except AssertionError:
                if attempt == 2:
                    raise
                client.publish(topics.telemetry, raw[topics.telemetry], qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()
    cam = {"device": "dev-a", "camera": "cam1"}
    for zone in ZONES:
        count = docs[topics.zone_count("cam1", zone)]
        occupancy = docs[topics.occupancy("cam1", zone)]
        assert value(samples, "edge_agent_zone_people", zone=zone, **cam) == count["count"]
        assert value(samples, "edge_agent_zone_people_active", zone=zone, **cam) == \
            count["active"]
        assert value(samples, "edge_agent_zone_coverage_ratio", zone=zone, **cam) == \
            pytest.approx(occupancy["coverage"])
    assert not any(dict(labels).get("zone") == "extra" for _, labels in samples)
    assert value(samples, "edge_agent_line_crossings_total", line="door", direction="out",
                 **cam) == last["out"]
    telemetry = docs[topics.telemetry]
    assert value(samples, "edge_agent_camera_fps", **cam) == telemetry["cameras"]["cam1"]["fps"]
    assert value(samples, "edge_agent_camera_frames_dropped_total", **cam) == \
        telemetry["cameras"]["cam1"]["frames_dropped"]
    assert value(samples, "edge_agent_device_up", device="dev-a", site="lobby") == 1.0
    assert value(samples, "edge_agent_device_stale", device="dev-a") == 0.0
    assert value(samples, "edge_agent_device_temperature_max_celsius", device="dev-a") == \
        telemetry["device"]["max_temp_c"]
    assert value(samples, "edge_agent_device_power_watts", device="dev-a") == \
        pytest.approx(telemetry["device"]["power_mw"] / 1000)
    assert value(samples, "edge_agent_device_power_mode_info", device="dev-a",
                 mode="MODE_15W") == 1.0
    assert value(samples, "edge_agent_plan_utilisation_ratio", device="dev-a",
                 resource="gpu") == telemetry["plan"]["utilisation"]["gpu"]
    assert value(samples, "edge_agent_outbox_depth_messages", device="dev-a") == \
        telemetry["outbox"]["depth"]
    assert value(samples, "edge_agent_exporter_broker_connected") == 1.0


def test_500_devices_scrape_size_and_time(exporter: Tuple[str, FleetState]) -> None:
    url, fleet = exporter
    for index in range(500):
        device = f"dev-{index:03d}"
        topics = Topics("edge-agent", device)
        for topic, payload, _ in [status_message(topics, device, "online", 1)] + \
                device_tick(topics, device, index, 1):
            fleet.handle(topic, payload)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        samples, size = scrape(url)
        times.append(time.perf_counter() - started)
    assert len({dict(labels)["device"] for _, labels in samples
                if "device" in dict(labels)}) == 500
    times.sort()
    sys.stderr.write(f"FIGURES exporter devices=500 series={len(samples)} bytes={size} "
                     f"scrape_median_s={times[2]:.3f} max_s={times[-1]:.3f}\n")
    assert times[2] < 2.0, f"scrape of 500 devices took {times[2]:.2f} s"


def test_exporter_command_refuses_a_bad_listen_address(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "exporter", "--listen", "nowhere"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 64 and "is not HOST:PORT" in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "exporter", "--site", "lobby"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 64 and "SITE=DEVICE_GLOB" in result.stderr


def test_grafana_dashboard_uses_only_served_metrics(exporter: Tuple[str, FleetState]) -> None:
    import re

    url, fleet = exporter
    topics = Topics("edge-agent", "dev-a")
    for topic, payload, _ in [status_message(topics, "dev-a", "online", 1)] + \
            device_tick(topics, "dev-a", 1, 1):
        fleet.handle(topic, payload)
    served = {name for name, _ in scrape(url)[0]}
    board = json.loads((Path(__file__).resolve().parents[1] / "deploy" / "grafana" /
                        "edge-agent-occupancy.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    used = {name for expr in exprs for name in re.findall(r"edge_agent_[a-z_]+", expr)}
    assert len(board["panels"]) >= 10 and used, "the board has panels with queries"
    assert used <= served, f"panels query metrics the exporter does not serve: {used - served}"
