"""`CommandTarget` over the daemon's public API (Agent.reload/healthy/camera_progress/snapshot).

Kept in one module so the daemon's owner can adjust it as the Agent changes. What the Agent
cannot do by itself (restart the process, rebuild engines, take a snapshot, re-publish retained
state) comes in as hooks from whoever wires the fleet receiver; a hook left out makes that
command answer `unsupported`, never pretend.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from typing_extensions import Protocol

from edge_agent import __version__
from edge_agent.device.identity import read_identity
from edge_agent.fleet.commands import COMMANDS
from edge_agent.fleet.config_ops import revision
from edge_agent.fleet.errors import CommandFailed
from edge_agent.fleet.target import DeviceCard, HealthReport, Progress
from edge_agent.pipeline.status import StatusSnapshot
from edge_agent.powermode import REQUEST_DIR
from edge_agent.service.reload import ReloadOutcome, ReloadPlan, reload_from_file
from edge_agent.service.watchdog import CameraProgress
from edge_agent.settings import AgentSettings

logger = logging.getLogger(__name__)


class FleetAgent(Protocol):
    """The part of daemon.Agent the adapter uses."""

    @property
    def device_id(self) -> str: ...

    def reload(self, settings: AgentSettings) -> ReloadPlan: ...

    def healthy(self) -> bool: ...

    def camera_progress(self) -> List[CameraProgress]: ...

    def snapshot(self) -> StatusSnapshot: ...

    def record_reload(self, outcome: ReloadOutcome) -> None: ...


@dataclass(frozen=True)
class AgentHooks:
    """Actions outside the Agent object; None = command unsupported on this device."""

    restart: Optional[Callable[[float], None]] = None
    rebuild_engines: Optional[Callable[[List[str], Progress], Dict[str, str]]] = None
    snapshot: Optional[Callable[[str], Optional[bytes]]] = None
    rebirth: Optional[Callable[[], None]] = None
    config_path: Optional[Path] = None
    models_dir: Path = Path("/var/lib/edge-agent/models")
    power_request_dir: Path = Path(REQUEST_DIR)
    nvpmodel_conf: Path = Path("/etc/nvpmodel.conf")
    device_root: Path = Path("/")
    calibration_dir: Path = Path("/var/lib/edge-agent/calibration")


class AgentCommandTarget:
    """Commands applied to a running Agent."""

    def __init__(
        self,
        agent: FleetAgent,
        settings: AgentSettings,
        site: str,
        hooks: AgentHooks = AgentHooks(),
        snapshots_enabled: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``settings``: the configuration the agent runs now (kept up to date here)."""
        self._agent = agent
        self._settings = settings
        self._site = site
        self._hooks = hooks
        self._snapshots_enabled = snapshots_enabled
        self._clock = clock
        self._applied_at_s = clock()
        identity = read_identity(hooks.device_root)
        self._module = identity.module or identity.kind
        self._jetpack = identity.jetpack

    @property
    def device_id(self) -> str:
        """The agent's device id."""
        return self._agent.device_id

    def card(self) -> DeviceCard:
        """Inventory facts from the agent's status snapshot."""
        snap = self._agent.snapshot()
        return DeviceCard(
            device_id=self.device_id, site=self._site, module=self._module,
            jetpack=self._jetpack, plan=self._settings.device.profile or "auto",
            version=__version__, config_revision=revision(self.current_config()),
            fps=sum(c.fps for c in snap.cameras), outbox_depth=snap.events_pending,
            snapshots_enabled=self._snapshots_enabled, commands=sorted(COMMANDS),
            ts=time.time(),
        )

    def current_config(self) -> Dict[str, Any]:
        """The running configuration as JSON data."""
        data: Dict[str, Any] = self._settings.model_dump(mode="json")
        return data

    def apply_config(self, config: Dict[str, Any]) -> List[str]:
        """Validate (ValidationError names the field) and reload (EdgeAgentError: nothing
        changed)."""
        plan = self._agent.reload(AgentSettings.model_validate(config))
        self._settings = plan.effective
        self._applied_at_s = self._clock()
        self._agent.record_reload(ReloadOutcome(plan))
        return list(plan.live) + [f"{name} (needs a restart)" for name in plan.restart_required]

    def health(self) -> HealthReport:
        """Healthy = no worker given up, every camera streaming with a frame processed since
        the change, and the broker connected."""
        if not self._agent.healthy():
            failed = self._agent.snapshot().failed_workers
            return HealthReport(False, f"workers given up: {', '.join(failed) or '?'}")
        for camera in self._agent.camera_progress():
            last = camera.last_processed_s
            if camera.state != "streaming" or last is None or last < self._applied_at_s:
                return HealthReport(
                    False, f"cameras[{camera.camera_id}]: {camera.state}, no frame processed "
                    "since the change",
                )
        if self._agent.snapshot().broker != "up":
            return HealthReport(False, "mqtt: broker not connected")
        return HealthReport(True)

    def reload_from_disk(self) -> List[str]:
        """As SIGHUP."""
        outcome = reload_from_file(self._agent, self._hooks.config_path)
        self._agent.record_reload(outcome)
        if outcome.plan is None:
            raise CommandFailed("invalid_args", f"config file refused: {outcome.error}")
        self._settings = outcome.plan.effective
        return list(outcome.plan.live)

    def restart(self, delay_s: float) -> None:
        """Through the hook (the runner exits with a restarting code)."""
        if self._hooks.restart is None:
            raise NotImplementedError("restart is not wired on this device")
        self._hooks.restart(delay_s)

    def set_power_mode(self, mode: str) -> str:
        """Validate against nvpmodel.conf and write the request for the privileged helper."""
        from edge_agent.powermode.request import read_table, write_request

        table = read_table(self._hooks.nvpmodel_conf)
        chosen = write_request(self._hooks.power_request_dir, mode, table)
        return chosen.name

    def rebuild_engines(self, models: List[str], progress: Progress) -> Dict[str, str]:
        """Through the hook."""
        if self._hooks.rebuild_engines is None:
            raise NotImplementedError("engine rebuilds are not wired on this device")
        return self._hooks.rebuild_engines(models, progress)

    def fetch_model(self, name: str, url: str, sha256: str, progress: Progress,
                    calibration_url: str = "") -> str:
        """edge_agent.models.fetch with byte progress turned into percent; with
        `calibration_url`, the INT8 cache goes into the calibration store (checked there)."""
        from edge_agent.models.fetch import download, fetch_model

        def on_bytes(done: int, total: Optional[int]) -> None:
            if total:
                progress(100.0 * done / total, f"downloaded {done} of {total} bytes")

        path = fetch_model(name, self._hooks.models_dir, url=url, sha256=sha256,
                           progress=on_bytes)
        if calibration_url:
            from edge_agent.calibration.store import install_shipped_cache
            from edge_agent.models.manifest import load_manifest

            dest = self._hooks.models_dir / ".partial" / f"{name}.calibration"
            download(calibration_url, dest)
            try:
                install_shipped_cache(self._hooks.calibration_dir, name,
                                      load_manifest(name).ngc_version, dest.read_bytes(),
                                      model_sha256=sha256, origin=calibration_url)
            finally:
                dest.unlink()
            progress(100.0, "calibration cache installed")
        return str(path)

    def set_log_level(self, level: str) -> None:
        """Root logger level, now."""
        logging.getLogger().setLevel(level)

    def snapshot(self, camera_id: str) -> Optional[bytes]:
        """Through the hook."""
        if self._hooks.snapshot is None:
            raise NotImplementedError("snapshots are not wired on this device")
        return self._hooks.snapshot(camera_id)

    def rebirth(self) -> None:
        """Through the hook (the transport re-sends status, discovery, retained state)."""
        if self._hooks.rebirth is None:
            raise NotImplementedError("rebirth is not wired on this device")
        self._hooks.rebirth()
