"""FAKE device for the simulator: a `CommandTarget` with no cameras, models or Jetson.

Only the hardware boundary is fake: configuration validation is the agent's own
(`AgentSettings`), and command handling, ids, replies and payloads are the real ones. Run-time
health follows one documented rule so rollout tests can break a device with a configuration
that validates: a camera whose URL host ends in ``.invalid`` (RFC 2606: never resolves) never
delivers frames, so the device is unhealthy while such a camera is enabled.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlparse

from edge_agent import __version__
from edge_agent.events.health_payloads import DeviceHealthTelemetry, PowerModeTelemetry
from edge_agent.events.payloads import StatusPayload
from edge_agent.events.state_payloads import (
    CameraTelemetry,
    OutboxTelemetry,
    ProcessTelemetry,
    TelemetryPayload,
)
from edge_agent.fleet.commands import COMMANDS
from edge_agent.fleet.config_ops import revision
from edge_agent.fleet.errors import CommandFailed
from edge_agent.fleet.target import DeviceCard, HealthReport, Progress
from edge_agent.settings import AgentSettings

logger = logging.getLogger(__name__)

Publish = Callable[[str, bytes, bool], None]
"""publish(topic, payload, retain)."""

# Orin NX 16 GB modes (nvpmodel.conf of JetPack 6): id -> name.
_POWER_MODES = {"0": "MAXN", "1": "10W", "2": "15W", "3": "25W"}
_SIMULATED_FPS_PER_CAMERA = 10.0


def simulated_config(device_id: str) -> Dict[str, Any]:
    """The starting configuration of a simulated device: one sample camera."""
    settings = AgentSettings.model_validate(
        {
            "device": {"id": device_id},
            "cameras": [{"id": "entrance", "url": "rtsp://camera.local/entrance"}],
        }
    )
    return settings.model_dump(mode="json")


class SimulatedDevice:
    """One simulated agent; thread-safe enough for one receiver worker plus the reporter."""

    def __init__(
        self,
        device_id: str,
        site: str,
        prefix: str,
        publish: Publish,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._device_id = device_id
        self.site = site
        self._prefix = prefix
        self._publish = publish
        self._clock = clock
        self._config = simulated_config(device_id)
        self._power_mode = "0"
        self._log_level = "INFO"
        self._models: Dict[str, str] = {}
        self.session = 1
        self.restarts = 0
        self.applied = 0

    def attach(self, publish: Publish) -> None:
        """Publish through a new connection from now on."""
        self._publish = publish

    @property
    def device_id(self) -> str:
        """Device id."""
        return self._device_id

    def _enabled_cameras(self) -> List[Dict[str, Any]]:
        return [c for c in self._config.get("cameras", []) if c.get("enabled", True)]

    def card(self) -> DeviceCard:
        """Inventory facts of a simulated Orin NX."""
        return DeviceCard(
            device_id=self._device_id, site=self.site, module="orin_nx_16gb",
            jetpack="6.2 (L4T 36.4.3)", power_mode=_POWER_MODES[self._power_mode],
            plan=f"orin_nx/{len(self._enabled_cameras())}cam", version=__version__,
            config_revision=revision(self._config),
            fps=_SIMULATED_FPS_PER_CAMERA * len(self._enabled_cameras()),
            max_temp_c=48.5, outbox_depth=0, snapshots_enabled=False,
            commands=sorted(COMMANDS), ts=self._clock(),
        )

    def current_config(self) -> Dict[str, Any]:
        """The running configuration."""
        return dict(self._config)

    def apply_config(self, config: Dict[str, Any]) -> List[str]:
        """Validate with the agent's own settings model, then take it."""
        settings = AgentSettings.model_validate(config)  # ValidationError names the field
        new = settings.model_dump(mode="json")
        changed = sorted(k for k in new if new.get(k) != self._config.get(k))
        self._config = new
        self.applied += 1
        self.publish_card()
        return changed

    def health(self) -> HealthReport:
        """Unhealthy while a camera cannot deliver frames (see the module docstring)."""
        for camera in self._enabled_cameras():
            host = urlparse(str(camera.get("url", ""))).hostname or ""
            if host.endswith(".invalid"):
                return HealthReport(
                    False, f"cameras[{camera.get('id')}].url: no frames (cannot open {host})"
                )
        return HealthReport(True)

    def reload_from_disk(self) -> List[str]:
        """Nothing on disk in the simulator: nothing changes."""
        return []

    def restart(self, delay_s: float) -> None:
        """A restart is a new MQTT session: the status is published again."""
        self.restarts += 1
        self.session += 1
        self.rebirth()

    def set_power_mode(self, mode: str) -> str:
        """Validate against the Orin NX table, then re-plan (the card shows it)."""
        by_name = {name.lower(): key for key, name in _POWER_MODES.items()}
        key = mode if mode in _POWER_MODES else by_name.get(mode.lower())
        if key is None:
            raise CommandFailed(
                "invalid_args",
                f"args.mode: {mode!r} is not a mode of this device; valid: "
                + ", ".join(f"{k} ({n})" for k, n in _POWER_MODES.items()),
            )
        self._power_mode = key
        self.publish_card()
        return _POWER_MODES[key]

    def rebuild_engines(self, models: List[str], progress: Progress) -> Dict[str, str]:
        """No TensorRT here: report each model as rebuilt, with progress."""
        names = models or ["peoplenet", "peoplesemsegnet_shuffleseg"]
        for index, name in enumerate(names):
            progress(100.0 * index / len(names), f"building {name}")
        return {name: "built" for name in names}

    def fetch_model(self, name: str, url: str, sha256: str, progress: Progress,
                    calibration_url: str = "") -> str:
        """No network here: record the model as installed, with progress."""
        progress(50.0, f"downloading {url}")
        self._models[name] = sha256
        return f"/var/lib/edge-agent/models/{name}/{sha256[:12]}.onnx"

    def set_log_level(self, level: str) -> None:
        """Remember the level."""
        self._log_level = level

    def snapshot(self, camera_id: str) -> Optional[bytes]:
        """No camera frames in the simulator."""
        return None

    def rebirth(self) -> None:
        """Publish status and card again (retained)."""
        status = StatusPayload(
            state="online", device_id=self._device_id, ts=self._clock(),
            version=__version__, session=self.session,
        )
        self._publish(f"{self._prefix}/{self._device_id}/status",
                      status.model_dump_json().encode(), True)
        self.publish_card()

    def publish_card(self) -> None:
        """Retained DeviceCard."""
        self._publish(f"{self._prefix}/{self._device_id}/fleet",
                      self.card().model_dump_json().encode(), True)

    def telemetry(self, uptime_s: float) -> TelemetryPayload:
        """A telemetry document with the agent's own payload model."""
        cameras = {
            str(c["id"]): CameraTelemetry(
                state="streaming", fps=_SIMULATED_FPS_PER_CAMERA, frames_dropped=0, reconnects=0
            )
            for c in self._enabled_cameras()
        }
        return TelemetryPayload(
            device_id=self._device_id, ts=self._clock(), version=__version__,
            session=self.session, cameras=cameras,
            outbox=OutboxTelemetry(depth=0, bytes=0, oldest_age_s=None, dropped=0, refused=0,
                                   expired=0, rejected=0),
            process=ProcessTelemetry(rss_bytes=0, cpu_percent=0.0, uptime_s=uptime_s),
            device=DeviceHealthTelemetry(
                power_mode=PowerModeTelemetry(id=int(self._power_mode),
                                              name=_POWER_MODES[self._power_mode]),
                temps_c={"cpu-thermal": 48.5, "gpu-thermal": 47.0}, max_temp_c=48.5,
            ),
        )
