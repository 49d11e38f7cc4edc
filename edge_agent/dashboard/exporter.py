"""Prometheus metrics of every device, read from the same FleetState as the dashboard.

Why a custom collector (rather than Gauge objects set on every message): metrics are rendered
from the state at scrape time, so a device or zone that disappears from the state never leaves
a frozen series behind, and the MQTT thread does no Prometheus work per message.

Cardinality: labels are only device, camera, zone, line, thermal zone, resource, direction
and pose class (the classifier's few labels) names — never track ids or free text — and
FleetState's Limits cap how many of each exist
(5000 devices x 16 cameras x 32 zones by default); names past a cap are counted in
edge_agent_exporter_ignored_names_total instead of becoming series.
"""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from typing import Any, Iterator, List, Optional
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from edge_agent.dashboard.fleet_state import FleetState
from edge_agent.dashboard.mqtt_source import BrokerLink

NS = "edge_agent"


class FleetCollector:
    """Yields one metric family per figure, labelled per device / camera / zone / line."""

    def __init__(self, fleet: FleetState, link: Optional[BrokerLink]) -> None:
        self._fleet = fleet
        self._link = link

    def describe(self) -> List[Metric]:
        """Nothing up front: the families are known only at scrape time."""
        return []

    def collect(self) -> Iterator[Metric]:  # noqa: C901 (one flat list of families)
        """Render the current state."""
        fleet = self._fleet
        d, c, z = ["device"], ["device", "camera"], ["device", "camera", "zone"]
        up = GaugeMetricFamily(f"{NS}_device_up", "1 while the device's status is online",
                               labels=["device", "site"])
        stale = GaugeMetricFamily(f"{NS}_device_stale", "1 when its values are not live", labels=d)
        errors = CounterMetricFamily(f"{NS}_device_schema_errors",
                                     "Payloads that failed their schema", labels=d)
        mode = GaugeMetricFamily(f"{NS}_device_power_mode_info", "Power mode in force (1)",
                                 labels=["device", "mode"])
        budget = GaugeMetricFamily(f"{NS}_device_power_budget_watts", "Power mode budget",
                                   labels=d)
        power = GaugeMetricFamily(f"{NS}_device_power_watts", "Board input power", labels=d)
        temp = GaugeMetricFamily(f"{NS}_device_temperature_celsius", "Per thermal zone",
                                 labels=["device", "sensor"])
        temp_max = GaugeMetricFamily(f"{NS}_device_temperature_max_celsius", "Hottest zone",
                                     labels=d)
        util = GaugeMetricFamily(f"{NS}_plan_utilisation_ratio",
                                 "Planned busy share per resource", labels=["device", "resource"])
        depth = GaugeMetricFamily(f"{NS}_outbox_depth_messages", "Messages waiting", labels=d)
        dropped = CounterMetricFamily(f"{NS}_outbox_dropped", "Dropped by overflow", labels=d)
        fps = GaugeMetricFamily(f"{NS}_camera_fps", "Frames per second", labels=c)
        frame_drops = CounterMetricFamily(f"{NS}_camera_frames_dropped",
                                          "Frames overwritten before inference", labels=c)
        people = GaugeMetricFamily(f"{NS}_zone_people", "People counted in the zone", labels=z)
        active = GaugeMetricFamily(f"{NS}_zone_people_active", "Of those, moving", labels=z)
        coverage = GaugeMetricFamily(f"{NS}_zone_coverage_ratio",
                                     "Share of zone pixels that are person", labels=z)
        poses = GaugeMetricFamily(f"{NS}_zone_pose_people",
                                  "People in the zone per pose class (with poses on)",
                                  labels=[*z, "pose"])
        crossings = CounterMetricFamily(f"{NS}_line_crossings",
                                        "Crossings since the line's last reset",
                                        labels=["device", "camera", "line", "direction"])
        now_s = fleet.now()
        with fleet.lock:
            for device in fleet.devices.values():
                dev = device.device_id
                up.add_metric([dev, device.site], float(device.status == "online"))
                stale.add_metric([dev], float(fleet.is_stale(device, now_s)))
                errors.add_metric([dev], float(device.schema_errors))
                if device.power_mode is not None:
                    mode.add_metric([dev, device.power_mode], 1.0)
                if device.power_budget_w is not None:
                    budget.add_metric([dev], device.power_budget_w)
                if device.power_w is not None:
                    power.add_metric([dev], device.power_w)
                for sensor, value in device.temps_c.items():
                    if value is not None:
                        temp.add_metric([dev, sensor], value)
                if device.max_temp_c is not None:
                    temp_max.add_metric([dev], device.max_temp_c)
                for resource, share in device.utilisation.items():
                    util.add_metric([dev, resource], share)
                if device.outbox_depth is not None:
                    depth.add_metric([dev], float(device.outbox_depth))
                if device.outbox_dropped is not None:
                    dropped.add_metric([dev], float(device.outbox_dropped))
                for cam, camera in device.cameras.items():
                    if camera.fps is not None:
                        fps.add_metric([dev, cam], camera.fps)
                    if camera.frames_dropped is not None:
                        frame_drops.add_metric([dev, cam], float(camera.frames_dropped))
                    for name, zone in camera.zones.items():
                        if zone.people is not None:
                            people.add_metric([dev, cam, name], float(zone.people))
                        if zone.active is not None:
                            active.add_metric([dev, cam, name], float(zone.active))
                        if zone.coverage is not None:
                            coverage.add_metric([dev, cam, name], zone.coverage)
                        for pose, count in zone.poses.items():
                            poses.add_metric([dev, cam, name, pose], float(count))
                    for name, line in camera.lines.items():
                        crossings.add_metric([dev, cam, name, "in"], float(line.count_in))
                        crossings.add_metric([dev, cam, name, "out"], float(line.count_out))
            devices, ignored = len(fleet.devices), fleet.ignored_devices + fleet.ignored_names
        yield from (up, stale, errors, mode, budget, power, temp, temp_max, util, depth, dropped,
                    fps, frame_drops, people, active, coverage, poses, crossings)
        yield GaugeMetricFamily(f"{NS}_exporter_devices", "Devices known", value=devices)
        yield CounterMetricFamily(f"{NS}_exporter_ignored_names",
                                  "Devices/cameras/zones/lines/tracks past the caps",
                                  value=ignored)
        if self._link is not None:
            yield GaugeMetricFamily(f"{NS}_exporter_broker_connected",
                                    "1 while subscribed to the broker",
                                    value=float(self._link.state == "connected"))


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        """Scrapes every 15 s would flood the journal."""


def serve_metrics(fleet: FleetState, link: Optional[BrokerLink], host: str,
                  port: int) -> WSGIServer:
    """Serve /metrics in a daemon thread (prometheus_client's WSGI app, its own registry)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(fleet, link))
    server = make_server(host, port, make_wsgi_app(registry), _ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="exporter-http", daemon=True).start()
    return server
