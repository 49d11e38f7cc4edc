"""`edge-agent run`: start the agent, show status, and stop cleanly on a signal.

SIGINT and SIGTERM only set an event; the main thread then stops the agent in order within
the stop budget (5 s), so systemd's stop and Ctrl-C both flush what is queued. SIGHUP sets
another event on which the main thread re-reads the config (service/reload.py); under
systemd the ServiceLifecycle reports readiness, status, reloads and watchdog pings from here.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, Dict, Optional

from edge_agent.agent.daemon import Agent
from edge_agent.pipeline.status import format_status_line
from edge_agent.service.console import StatusLine
from edge_agent.service.lifecycle import ServiceLifecycle
from edge_agent.service.reload import ReloadOutcome, reload_from_file
from edge_agent.settings import AgentSettings

logger = logging.getLogger(__name__)

STOP_BUDGET_S = 5.0
_TICK_S = 0.1


def run_agent(
    settings: AgentSettings,
    status: StatusLine,
    duration_s: float = 0.0,
    stop_event: Optional[threading.Event] = None,
    agent: Optional[Agent] = None,
    config_path: Optional[Path] = None,
    service: Optional[ServiceLifecycle] = None,
) -> Agent:
    """Run until a signal, `stop_event`, `duration_s` elapsing (0 = forever) or all cameras end.

    Raises EdgeAgentError from prepare() before anything starts. Returns the stopped agent
    so callers (demo, tests) can read its final figures. SIGHUP reloads `config_path`
    (None: nothing to re-read, the reload only re-validates the environment).
    """
    agent = agent or Agent(settings)
    agent.config_path = config_path
    service = service or ServiceLifecycle.from_environ(settings.service)
    agent.prepare()
    stop = stop_event or threading.Event()
    reload = threading.Event()
    restore = _install_signal_handlers(stop, reload)
    try:
        agent.start()
        started_s = time.monotonic()
        service.started(started_s)
        interval_s = settings.logging.stats_interval_s
        next_status_s = started_s + interval_s if interval_s > 0 else float("inf")
        reloading: Optional[_ReloadThread] = None
        while not stop.wait(_TICK_S):
            now_s = time.monotonic()
            if duration_s and now_s - started_s >= duration_s:
                break
            if agent.restart_requested.is_set():
                logger.info("restart requested by a fleet command; stopping (exit 75)")
                break
            if agent.all_cameras_ended():
                logger.info("all cameras ended (on_eof = 'stop')")
                break
            if reload.is_set() and reloading is None:
                reload.clear()
                service.reloading()
                reloading = _ReloadThread(agent, config_path)
            if reloading is not None and reloading.done():
                outcome = reloading.outcome()
                reloading = None
                agent.record_reload(outcome)  # telemetry's last_reload
                service.set_config_error(outcome.error)
                rebuilt = outcome.plan is not None and outcome.plan.pipeline_changed
                service.reloaded(agent, time.monotonic(), rebuilt)
            agent.supervisor.poll(now_s)
            agent.tick(now_s)
            service.tick(agent, now_s)
            if now_s >= next_status_s:
                status.show(format_status_line(agent.snapshot()))
                next_status_s += interval_s
        if reloading is not None:
            reloading.join(STOP_BUDGET_S)
    finally:
        service.stopping()
        status.clear()
        agent.stop(STOP_BUDGET_S)
        service.close()
        restore()
    return agent


class _ReloadThread:
    """Runs one reload off the main thread, so the watchdog and status keep ticking meanwhile.

    A reload can take seconds (preflight opens each changed camera's file or stream); the main
    loop goes on feeding the systemd watchdog from the still-running configuration.
    """

    def __init__(self, agent: Agent, config_path: Optional[Path]) -> None:
        self._agent = agent
        self._config_path = config_path
        self._outcome = ReloadOutcome(None, "reload did not finish")
        self._thread = threading.Thread(target=self._run, name="reload", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = reload_from_file(self._agent, self._config_path)
        except Exception as err:  # noqa: BLE001 - a reload bug must not kill the agent
            logger.exception("reload failed unexpectedly; the previous config keeps running")
            self._outcome = ReloadOutcome(None, f"internal error: {err}")

    def done(self) -> bool:
        """True once the reload finished (applied or refused)."""
        return not self._thread.is_alive()

    def join(self, timeout_s: float) -> None:
        """Wait for it at stop."""
        self._thread.join(timeout_s)

    def outcome(self) -> ReloadOutcome:
        """What the reload did."""
        return self._outcome


def _install_signal_handlers(stop: threading.Event, reload: threading.Event) -> _Restore:
    """Route SIGINT/SIGTERM to `stop`, SIGHUP to `reload`; only possible from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return _Restore({})

    def handler(signum: int, _frame: Optional[FrameType]) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    def reload_handler(_signum: int, _frame: Optional[FrameType]) -> None:
        logger.info("received SIGHUP, reloading the configuration")
        reload.set()

    previous: Dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, reload_handler if sig == signal.SIGHUP else handler)
    return _Restore(previous)


class _Restore:
    """Puts the previous signal handlers back."""

    def __init__(self, previous: Dict[signal.Signals, Any]) -> None:
        self._previous = previous

    def __call__(self) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)
