"""JSON views of the fleet state for the page: device cards, one device's detail, site totals.

Why the server shapes the views: the page then receives a few hundred bytes per changed
device per second instead of every MQTT message of every device, which keeps a 500-device
site responsive in a browser (the page only renders).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from edge_agent.dashboard.device_state import CameraState, DeviceState
from edge_agent.dashboard.fleet_state import FleetState
from edge_agent.dashboard.history import BucketedHistory

Json = Dict[str, Any]


def _round(value: Optional[float], digits: int = 2) -> Optional[float]:
    return None if value is None else round(value, digits)


def camera_people(camera: CameraState) -> int:
    """People on one camera: the sum of its zones' head counts (see docs/dashboard.md)."""
    return sum(zone.people or 0 for zone in camera.zones.values())


def device_card(fleet: FleetState, device: DeviceState, now_s: float) -> Json:
    """The compact view of one device (the grid of cards)."""
    fps = [c.fps for c in device.cameras.values() if c.fps is not None]
    return {
        "id": device.device_id,
        "site": device.site,
        "status": device.status,
        "stale": fleet.is_stale(device, now_s),
        "age_s": None if device.last_seen_s is None else round(now_s - device.last_seen_s, 1),
        "session": device.session,
        "version": device.version,
        "power_mode": device.power_mode,
        "power_w": _round(device.power_w, 1),
        "max_temp_c": _round(device.max_temp_c, 1),
        "fps": _round(sum(fps), 1) if fps else None,
        "utilisation": _round(max(device.utilisation.values()), 3)
        if device.utilisation else None,
        "outbox_depth": device.outbox_depth,
        "errors": device.schema_errors,
        "last_error": device.last_error,
        "people": sum(camera_people(c) for c in device.cameras.values()),
        "cameras": {cid: {"people": camera_people(c), "fps": _round(c.fps, 1)}
                    for cid, c in sorted(device.cameras.items())},
    }


def _series(history: BucketedHistory, now_s: float) -> List[List[float]]:
    return [[t, round(v, 4)] for t, v in history.points(now_s)]


def device_detail(fleet: FleetState, device: DeviceState, now_s: float) -> Json:
    """Everything about one device, with last-hour histories and live tracks."""
    view = device_card(fleet, device, now_s)
    view.update({
        "temps_c": {k: _round(v, 1) for k, v in sorted(device.temps_c.items())},
        "gpu_load_pct": _round(device.gpu_load_pct, 1),
        "throttled": device.throttled,
        "utilisation_by_resource": {k: _round(v, 3) for k, v in device.utilisation.items()},
        "plan_reason": device.plan_reason,
        "plan_shed": device.plan_shed,
        "outbox_dropped": device.outbox_dropped,
    })
    cameras: Json = {}
    for camera_id, camera in sorted(device.cameras.items()):
        cameras[camera_id] = {
            "state": camera.state,
            "fps": _round(camera.fps, 1),
            "frames_dropped": camera.frames_dropped,
            "frame_width": camera.frame_width,
            "frame_height": camera.frame_height,
            "zones": {name: {
                "people": zone.people, "active": zone.active, "restored": zone.restored,
                "coverage": _round(zone.coverage, 4), "occupied": zone.occupied,
                "standin": zone.standin,
                "poses": dict(sorted(zone.poses.items())),
                "people_history": _series(zone.people_history, now_s),
                "coverage_history": _series(zone.coverage_history, now_s),
            } for name, zone in sorted(camera.zones.items())},
            "lines": {name: {"in": line.count_in, "out": line.count_out, "since": line.since}
                      for name, line in sorted(camera.lines.items())},
            "tracks": [{"id": key, "track_id": t.track_id, "box": [round(v, 1) for v in t.box],
                        "state": t.state, "active": t.active}
                       for key, t in sorted(camera.tracks.items())],
        }
    view["cameras"] = cameras
    return view


class SiteTotals:
    """Per-site sums across devices and cameras, with a last-hour history of people."""

    def __init__(self) -> None:
        self._history: Dict[str, BucketedHistory] = {}

    def compute(self, fleet: FleetState, now_s: float) -> Json:
        """Totals per site label; call with fleet.lock held."""
        sites: Json = {}
        for device in fleet.devices.values():
            site = sites.setdefault(device.site, {
                "devices": 0, "online": 0, "stale": 0, "errors": 0, "people": 0,
                "in": 0, "out": 0, "zones": 0, "occupied_zones": 0})
            site["devices"] += 1
            site["online"] += device.status == "online"
            site["stale"] += fleet.is_stale(device, now_s)
            site["errors"] += device.schema_errors
            for camera in device.cameras.values():
                site["people"] += camera_people(camera)
                site["zones"] += len(camera.zones)
                site["occupied_zones"] += sum(bool(z.occupied) for z in camera.zones.values())
                for line in camera.lines.values():
                    site["in"] += line.count_in
                    site["out"] += line.count_out
        for name, site in sites.items():
            history = self._history.setdefault(name, BucketedHistory())
            history.add(now_s, float(site["people"]))
            site["people_history"] = _series(history, now_s)
        return dict(sorted(sites.items()))
