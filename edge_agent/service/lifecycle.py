"""The agent's side of the systemd conversation, driven by the runner's main loop.

Order of messages over one life: READY=1 once every camera has opened or failed over to
retrying (bounded by ready_timeout_s; the engine and publisher are ready before the runner
starts the loop), then STATUS= every few seconds and WATCHDOG=1 while frames are processed,
RELOADING=1 ... READY=1 around each SIGHUP reload, and STOPPING=1 when shutting down. With
no NOTIFY_SOCKET every method is a no-op, so the runner never has to ask.
"""

from __future__ import annotations

import logging
import os
from typing import List, Mapping, Optional

from typing_extensions import Protocol

from edge_agent.pipeline.status import StatusSnapshot, format_status_line
from edge_agent.service.notify import Notifier, notifier_from_environ, one_line
from edge_agent.service.notify import watchdog_interval_s as environ_watchdog_interval_s
from edge_agent.service.watchdog import CameraProgress, StallDetector, Watchdog
from edge_agent.settings import ServiceSettings

logger = logging.getLogger(__name__)

STATUS_EVERY_S = 5.0


class SupervisedAgent(Protocol):
    """What the link reads from the agent."""

    def camera_progress(self) -> List[CameraProgress]: ...

    def snapshot(self) -> StatusSnapshot: ...

    def healthy(self) -> bool: ...


class ServiceLifecycle:
    """Readiness, status, watchdog and lifecycle notifications for one agent run."""

    def __init__(
        self,
        notifier: Optional[Notifier],
        watchdog_interval_s: Optional[float],
        settings: ServiceSettings,
    ) -> None:
        self._notifier = notifier
        self._settings = settings
        self._watchdog: Optional[Watchdog] = None
        if notifier is not None and watchdog_interval_s is not None:
            self._watchdog = Watchdog(notifier, watchdog_interval_s, StallDetector(0.0))
        self._started_s = 0.0
        self._ready = False
        self._next_status_s = 0.0
        self._config_error = ""

    @classmethod
    def from_environ(
        cls, settings: ServiceSettings, environ: Optional[Mapping[str, str]] = None
    ) -> ServiceLifecycle:
        """The link systemd asked for through NOTIFY_SOCKET / WATCHDOG_USEC (or an inert one)."""
        env = os.environ if environ is None else environ
        notifier = notifier_from_environ(env)
        interval = environ_watchdog_interval_s(env, os.getpid()) if notifier else None
        return cls(notifier, interval, settings)

    @property
    def active(self) -> bool:
        """True when systemd listens."""
        return self._notifier is not None

    @property
    def ready(self) -> bool:
        """True once READY=1 was sent (always False when inactive)."""
        return self._ready

    @property
    def watchdog(self) -> Optional[Watchdog]:
        """The watchdog, when systemd configured WatchdogSec=."""
        return self._watchdog

    def started(self, now_s: float) -> None:
        """The agent's start() returned: engine loaded, publisher ready, cameras opening."""
        self._started_s = now_s
        if self._watchdog is not None:
            self._watchdog.restart_epoch(now_s)

    def set_config_error(self, message: str) -> None:
        """Show a failed reload in STATUS= until a reload succeeds ('' clears it)."""
        self._config_error = message

    def status_text(self, agent: SupervisedAgent) -> str:
        """The STATUS= line: the status line plus what the watchdog and reload know."""
        text = format_status_line(agent.snapshot())
        if self._watchdog is not None and self._watchdog.stalled:
            text += " | STALLED " + ",".join(self._watchdog.stalled)
        if self._config_error:
            text += f" | reload failed, old config kept: {self._config_error}"
        return one_line(text)

    def tick(self, agent: SupervisedAgent, now_s: float) -> None:
        """Called from the main loop: readiness, watchdog and periodic STATUS=."""
        if self._notifier is None:
            return
        progress = agent.camera_progress()
        if not self._ready:
            opening = [cam.camera_id for cam in progress if cam.state == "starting"]
            waited_s = now_s - self._started_s
            if opening and waited_s < self._settings.ready_timeout_s:
                return
            if opening:
                logger.warning(
                    "camera(s) %s still opening after %.0f s; reporting ready anyway",
                    ", ".join(opening),
                    waited_s,
                )
            self._send("READY=1\nSTATUS=" + self.status_text(agent))
            self._ready = True
            self._next_status_s = now_s + STATUS_EVERY_S
            logger.info("told systemd the agent is ready")
        if self._watchdog is not None:
            self._watchdog.tick(progress, now_s, agent.healthy())
        if now_s >= self._next_status_s:
            self._send("STATUS=" + self.status_text(agent))
            self._next_status_s = now_s + STATUS_EVERY_S

    def reloading(self) -> None:
        """SIGHUP received: systemd shows 'reloading' until reloaded() answers READY=1."""
        self._send("RELOADING=1\nSTATUS=reloading configuration")

    def reloaded(self, agent: SupervisedAgent, now_s: float, pipeline_rebuilt: bool) -> None:
        """Reload finished (applied or refused): READY=1 plus the current status."""
        if pipeline_rebuilt and self._watchdog is not None:
            self._watchdog.restart_epoch(now_s)
        self._send("READY=1\nSTATUS=" + self.status_text(agent))
        self._next_status_s = now_s + STATUS_EVERY_S

    def stopping(self) -> None:
        """Shutdown began."""
        self._send("STOPPING=1\nSTATUS=stopping")

    def close(self) -> None:
        """Release the notify socket."""
        if self._notifier is not None:
            self._notifier.close()

    def _send(self, message: str) -> None:
        if self._notifier is not None:
            self._notifier.send(message)
