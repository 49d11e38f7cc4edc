"""Watches every worker: restarts the dead with backoff, gives up on the hopeless, says so.

A worker that dies (runtime/worker.py) is restarted after a capped exponential delay when it
is restartable; one that dies `max_deaths` times within `window_s` is given up on with one
clear log line, and from then on `healthy()` is false, so the service watchdog stops sending
WATCHDOG=1 and systemd restarts the whole agent — a fresh process is the one remedy left.
A non-restartable worker's first death is given up on at once. External probes (the MQTT
transport's threads, which their owner restarts itself) are only watched.

Pure decisions, driven by `poll(now_s)` from the runner's loop: no thread of its own, so it
cannot die unnoticed.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Dict, List, Optional, Sequence

from typing_extensions import Protocol

from edge_agent.runtime.worker import WorkerHealth

logger = logging.getLogger(__name__)


class Supervised(Protocol):
    """What the supervisor needs from a worker (runtime.worker.Worker satisfies it)."""

    name: str
    restartable: bool

    def dead(self) -> bool: ...

    def restart(self) -> None: ...

    def give_up(self) -> None: ...

    def health(self) -> WorkerHealth: ...


HealthProbe = Callable[[], Sequence[WorkerHealth]]
"""Threads owned elsewhere (transport): their health, for watching only."""


@dataclass(frozen=True)
class RestartPolicy:
    """first_delay_s doubles per death up to max_delay_s; max_deaths in window_s → give up."""

    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_deaths: int = 5
    window_s: float = 300.0


class Supervisor:
    """Restart-or-give-up decisions for a changing set of workers."""

    def __init__(self, policy: Optional[RestartPolicy] = None) -> None:
        self._policy = policy or RestartPolicy()
        self._workers: Dict[str, Supervised] = {}
        self._probes: List[HealthProbe] = []
        self._deaths: Dict[str, Deque[float]] = {}
        self._restart_at: Dict[str, float] = {}
        self._given_up: Dict[str, str] = {}
        self.restarts = 0

    def watch(self, worker: Supervised) -> None:
        """Add (or replace, after a reload) a worker by name."""
        self._workers[worker.name] = worker
        self._restart_at.pop(worker.name, None)
        self._given_up.pop(worker.name, None)

    def forget(self, name: str) -> None:
        """Stop watching a worker that was removed on purpose."""
        self._workers.pop(name, None)
        self._restart_at.pop(name, None)
        self._deaths.pop(name, None)
        self._given_up.pop(name, None)

    def add_probe(self, probe: HealthProbe) -> None:
        """Watch threads that someone else owns."""
        self._probes.append(probe)

    def poll(self, now_s: float) -> None:
        """Restart workers whose delay has passed; schedule or give up on new deaths."""
        policy = self._policy
        for name, worker in list(self._workers.items()):
            if name in self._given_up or not worker.dead():
                continue
            due = self._restart_at.get(name)
            if due is None:
                deaths = self._deaths.setdefault(name, deque())
                deaths.append(now_s)
                while deaths and now_s - deaths[0] > policy.window_s:
                    deaths.popleft()
                error = worker.health().last_error
                if not worker.restartable or len(deaths) >= policy.max_deaths:
                    self._abandon(worker, error, len(deaths))
                    continue
                delay_s = min(policy.max_delay_s, policy.first_delay_s * 2 ** (len(deaths) - 1))
                self._restart_at[name] = now_s + delay_s
                logger.warning("restarting worker %s in %.1f s (death %d in %.0f s): %s",
                               name, delay_s, len(deaths), policy.window_s, error)
            elif now_s >= due:
                del self._restart_at[name]
                worker.restart()
                self.restarts += 1
        for probe in self._probes:
            for health in probe():
                if not health.alive and health.name not in self._given_up:
                    self._given_up[health.name] = health.last_error or "thread ended"
                    logger.error("thread %s is dead (%s); the service watchdog stops so "
                                 "systemd restarts the agent", health.name,
                                 self._given_up[health.name])

    def _abandon(self, worker: Supervised, error: str, deaths: int) -> None:
        worker.give_up()
        self._given_up[worker.name] = error
        why = "it cannot be restarted safely" if not worker.restartable else (
            f"it died {deaths} times in {self._policy.window_s:.0f} s")
        logger.error("giving up on worker %s (%s; last error: %s); the service watchdog stops "
                     "so systemd restarts the agent", worker.name, why, error)

    def healthy(self) -> bool:
        """False once any worker or probed thread was given up on."""
        return not self._given_up

    def failed(self) -> Dict[str, str]:
        """Name -> last error of every worker given up on."""
        return dict(self._given_up)

    def health(self) -> List[WorkerHealth]:
        """Every watched worker and probed thread, for telemetry and the status line."""
        out = [worker.health() for worker in self._workers.values()]
        for probe in self._probes:
            out.extend(probe())
        return out
