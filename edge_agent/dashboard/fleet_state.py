"""Folds validated MQTT documents into per-device state: the pure core of dashboard and exporter.

Every payload is validated with the same pydantic model that generates docs/asyncapi.yaml; one
that fails is never applied but counted on its device with the reason (the page shows an error
badge), so a broken producer can neither blank the page nor poison a total. Reducers read the
validated document as a plain mapping; tests record which fields they touch and check each
against the AsyncAPI document.

Thread-safety: the MQTT thread calls handle(), HTTP threads read views; one lock covers both.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from pydantic import ValidationError

from edge_agent.dashboard.channels import route
from edge_agent.dashboard.device_state import (
    CameraState,
    DeviceState,
    Limits,
    LineState,
    TrackState,
    ZoneState,
)

Doc = Mapping[str, Any]
UNASSIGNED_SITE = "unassigned"


def site_rules(pairs: Sequence[str]) -> List[Tuple[str, str]]:
    """Parse ``SITE=DEVICE_GLOB`` options (first match wins) into (glob, site) pairs."""
    rules = []
    for pair in pairs:
        site, sep, pattern = pair.partition("=")
        if not sep or not site or not pattern:
            raise ValueError(f"--site {pair!r} is not SITE=DEVICE_GLOB (for example "
                             f"'lobby=cam-lobby-*')")
        rules.append((pattern, site))
    return rules


class FleetState:
    """All devices under one topic prefix."""

    def __init__(self, prefix: str, sites: Sequence[Tuple[str, str]] = (),
                 stale_after_s: float = 90.0, limits: Optional[Limits] = None,
                 clock: Optional[Callable[[], float]] = None) -> None:
        import time

        self.prefix = prefix
        self.stale_after_s = stale_after_s
        self.limits = limits or Limits()
        self._sites = list(sites)
        self._clock = clock or time.time
        self.lock = threading.Lock()
        self.devices: Dict[str, DeviceState] = {}
        self.version = 0
        self.ignored_devices = 0
        self.ignored_names = 0
        self.source_down = False  # set by the broker link: nothing is live while it is down

    def now(self) -> float:
        """The clock the state uses (injectable for tests)."""
        return self._clock()

    def is_stale(self, device: DeviceState, now_s: float) -> bool:
        """The device's values are not live: its own state, or the broker link is down (then
        nothing can be known to be current)."""
        return self.source_down or device.is_stale(now_s, self.stale_after_s)

    def site_of(self, device_id: str) -> str:
        """The site label of a device from the --site rules."""
        for pattern, site in self._sites:
            if fnmatch.fnmatchcase(device_id, pattern):
                return site
        return UNASSIGNED_SITE

    def handle(self, topic: str, payload: bytes) -> None:
        """Apply one received message (unknown topics are ignored)."""
        routed = route(topic, self.prefix)
        if routed is None:
            return
        now_s = self.now()
        with self.lock:
            device = self._device(routed.params["device_id"])
            if device is None:
                return
            try:
                model = routed.channel.model.model_validate_json(payload)
            except ValidationError as error:
                device.schema_errors += 1
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"]) or "payload"
                device.last_error = f"{routed.channel.name} {topic}: {where}: {first['msg']}"
                self._touch(device)
                return
            doc = json.loads(model.model_dump_json(by_alias=True))
            reducer = _REDUCERS[routed.channel.name]
            reducer(self, device, routed.params, doc, now_s)
            if routed.channel.name != "status":
                device.last_seen_s = now_s
            self._touch(device)

    def apply(self, channel: str, device_id: str, params: Mapping[str, str], doc: Doc) -> None:
        """Apply an already validated document (tests use it to record the fields read)."""
        with self.lock:
            device = self._device(device_id)
            if device is not None:
                _REDUCERS[channel](self, device, params, doc, self.now())
                self._touch(device)

    def expire_tracks(self) -> None:
        """Drop tracks not updated within the timeout (an 'end' lost in an outage)."""
        now_s = self.now()
        with self.lock:
            for device in self.devices.values():
                for camera in device.cameras.values():
                    old = [key for key, track in camera.tracks.items()
                           if now_s - track.seen_s > self.limits.track_timeout_s]
                    for key in old:
                        del camera.tracks[key]
                    if old:
                        self._touch(device)

    def _touch(self, device: DeviceState) -> None:
        self.version += 1
        device.changed = self.version

    def _device(self, device_id: str) -> Optional[DeviceState]:
        device = self.devices.get(device_id)
        if device is None:
            if len(self.devices) >= self.limits.max_devices:
                self.ignored_devices += 1
                return None
            device = self.devices[device_id] = DeviceState(device_id, self.site_of(device_id))
        return device

    def camera(self, device: DeviceState, camera_id: str) -> Optional[CameraState]:
        """The camera, created within the cap; None (counted) past it."""
        camera = device.cameras.get(camera_id)
        if camera is None:
            if len(device.cameras) >= self.limits.max_cameras_per_device:
                self.ignored_names += 1
                return None
            camera = device.cameras[camera_id] = CameraState()
        return camera

    def zone(self, device: DeviceState, camera_id: str, name: str) -> Optional[ZoneState]:
        """The zone, created within the caps; None (counted) past them."""
        camera = self.camera(device, camera_id)
        if camera is None:
            return None
        zone = camera.zones.get(name)
        if zone is None:
            if len(camera.zones) >= self.limits.max_zones_per_camera:
                self.ignored_names += 1
                return None
            zone = camera.zones[name] = ZoneState()
        return zone


def _status(fleet: FleetState, device: DeviceState, params: Mapping[str, str], doc: Doc,
            now_s: float) -> None:
    state, session = doc["state"], doc["session"]
    if state == "offline" and device.session is not None and session < device.session:
        return  # the will of an older connection arriving late: not this session's death
    device.status = state
    device.session = session
    device.version = doc["version"]
    if state == "online":
        device.last_seen_s = now_s


def _telemetry(fleet: FleetState, device: DeviceState, params: Mapping[str, str], doc: Doc,
               now_s: float) -> None:
    device.telemetry_ts = doc["ts"]
    for camera_id, figures in doc["cameras"].items():
        camera = fleet.camera(device, camera_id)
        if camera is not None:
            camera.state = figures["state"]
            camera.fps = figures["fps"]
            camera.frames_dropped = figures["frames_dropped"]
    outbox = doc["outbox"]
    device.outbox_depth = outbox["depth"]
    device.outbox_dropped = outbox["dropped"]
    health = doc["device"]
    if health is not None:
        mode = health["power_mode"]
        if mode is not None:
            device.power_mode = mode["name"] or f"mode {mode['id']}"
            device.power_budget_w = mode["budget_w"]
        device.temps_c = dict(health["temps_c"])
        device.max_temp_c = health["max_temp_c"]
        power_mw = health["power_mw"]
        device.power_w = None if power_mw is None else power_mw / 1000.0
        gpu = health["gpu"]
        device.gpu_load_pct = None if gpu is None else gpu["load_pct"]
        throttle = health["throttle"]
        device.throttled = None if throttle is None else throttle["throttled"]
    plan = doc["plan"]
    if plan is not None:
        _plan(fleet, device, params, plan, now_s)


def _plan(fleet: FleetState, device: DeviceState, params: Mapping[str, str], doc: Doc,
          now_s: float) -> None:
    device.utilisation = dict(doc["utilisation"])
    device.plan_reason = doc["reason"]
    device.plan_shed = list(doc["shed"])
    if doc["power_mode"] is not None:
        device.power_mode = doc["power_mode"]


def _occupancy(fleet: FleetState, device: DeviceState, params: Mapping[str, str], doc: Doc,
               now_s: float) -> None:
    zone = fleet.zone(device, doc["camera_id"], doc["zone"])
    if zone is not None:
        zone.coverage = doc["coverage"]
        zone.occupied = doc["occupied"]
        zone.coverage_ts = doc["capture_ts"]
        zone.standin = doc["standin"]
        zone.coverage_history.add(now_s, doc["coverage"])


def _zone_count(fleet: FleetState, device: DeviceState, params: Mapping[str, str], doc: Doc,
                now_s: float) -> None:
    zone = fleet.zone(device, doc["camera_id"], doc["zone"])
    if zone is not None:
        zone.people = doc["count"]
        zone.active = doc["active"]
        zone.restored = doc["restored"]
        zone.count_ts = doc["ts"]
        zone.standin = doc["standin"]
        zone.people_history.add(now_s, float(doc["count"]))


def _zone_pose(fleet: FleetState, device: DeviceState, params: Mapping[str, str], doc: Doc,
               now_s: float) -> None:
    zone = fleet.zone(device, doc["camera_id"], doc["zone"])
    if zone is not None:
        # Classes come from the classifier's label list (a handful), so the map stays small.
        zone.poses = {str(name): int(count) for name, count in doc["counts"].items()}


def _line_count(fleet: FleetState, device: DeviceState, params: Mapping[str, str], doc: Doc,
                now_s: float) -> None:
    camera = fleet.camera(device, doc["camera_id"])
    if camera is None:
        return
    name = doc["line"]
    if name not in camera.lines and len(camera.lines) >= fleet.limits.max_lines_per_camera:
        fleet.ignored_names += 1
        return
    camera.lines[name] = LineState(doc["in"], doc["out"], doc["since"], doc["ts"])


def _track(fleet: FleetState, device: DeviceState, params: Mapping[str, str], doc: Doc,
           now_s: float) -> None:
    camera = fleet.camera(device, doc["camera_id"])
    if camera is None:
        return
    camera.frame_width, camera.frame_height = doc["frame_width"], doc["frame_height"]
    key = doc["id"]
    if doc["type"] == "end":
        camera.tracks.pop(key, None)
        return
    if key not in camera.tracks and len(camera.tracks) >= fleet.limits.max_tracks_per_camera:
        fleet.ignored_names += 1
        return
    camera.tracks[key] = TrackState(
        doc["track_id"], list(doc["box"]), doc["state"], doc["active"],
        doc["frame_width"], doc["frame_height"], now_s)


_REDUCERS: Dict[str, Callable[[FleetState, DeviceState, Mapping[str, str], Doc, float], None]] = {
    "status": _status,
    "telemetry": _telemetry,
    "plan": _plan,
    "occupancy": _occupancy,
    "zoneCount": _zone_count,
    "lineCount": _line_count,
    "track": _track,
    "zonePose": _zone_pose,
}
