"""The worker base and the supervisor: a death is seen, restarted with backoff, or given up on."""

from __future__ import annotations

import threading
import time
from typing import Callable, List

from edge_agent.runtime.supervisor import RestartPolicy, Supervisor
from edge_agent.runtime.worker import Worker, WorkerHealth
from edge_agent.service.notify import Notifier
from edge_agent.service.watchdog import StallDetector, Watchdog


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Dying(Worker):
    """Raises on its first `deaths` lives, then loops until stopped."""

    def __init__(self, deaths: int, restartable: bool = True) -> None:
        super().__init__("dying")
        self.lives = 0
        self._deaths_left = deaths
        self.restartable = restartable

    def run(self, stop: threading.Event) -> None:
        self.lives += 1
        if self._deaths_left > 0:
            self._deaths_left -= 1
            raise RuntimeError(f"boom {self.lives}")
        while not stop.wait(0.01):
            self.beat()


class Draining(Worker):
    def __init__(self) -> None:
        super().__init__("draining")
        self.drained: List[str] = []

    def run(self, stop: threading.Event) -> None:
        stop.wait()

    def drain(self, timeout_s: float) -> None:
        self.drained.append("done")


class RecordingNotifier(Notifier):
    def __init__(self) -> None:
        self.sent: List[str] = []

    def send(self, message: str) -> bool:
        self.sent.append(message)
        return True

    def close(self) -> None:
        return None


def test_a_death_is_recorded_with_its_error() -> None:
    worker = Dying(deaths=1)
    worker.start()
    assert wait_until(worker.dead)
    health = worker.health()
    assert health == WorkerHealth("dying", False, 1, 0, "RuntimeError: boom 1", None)
    worker.stop(1.0)


def test_returning_without_a_stop_request_counts_as_a_death() -> None:
    class Quitter(Worker):
        def run(self, stop: threading.Event) -> None:
            return None

    worker = Quitter("quitter")
    worker.start()
    assert wait_until(worker.dead)
    assert worker.health().last_error == "returned without a stop request"


def test_supervisor_restarts_after_a_backoff_delay() -> None:
    worker = Dying(deaths=1)
    supervisor = Supervisor(RestartPolicy(first_delay_s=1.0))
    supervisor.watch(worker)
    worker.start()
    assert wait_until(worker.dead)
    supervisor.poll(100.0)  # death seen: restart scheduled at 101
    assert not worker.alive() and worker.lives == 1
    supervisor.poll(100.5)
    assert not worker.alive()
    supervisor.poll(101.0)
    assert wait_until(worker.alive)
    assert worker.lives == 2 and worker.health().restarts == 1 and supervisor.healthy()
    worker.stop(1.0)


def test_a_worker_that_keeps_dying_is_given_up_and_the_watchdog_stops() -> None:
    worker = Dying(deaths=100)
    supervisor = Supervisor(RestartPolicy(first_delay_s=0.5, max_deaths=3, window_s=60.0))
    supervisor.watch(worker)
    worker.start()
    assert wait_until(worker.dead)
    supervisor.poll(0.0)  # death 1: restart due at 0.5
    supervisor.poll(0.49)
    assert worker.lives == 1 and supervisor.healthy()
    supervisor.poll(0.5)
    assert wait_until(lambda: worker.lives == 2 and worker.dead())
    supervisor.poll(0.5)  # death 2: the delay doubles, restart due at 1.5
    supervisor.poll(1.49)
    assert worker.lives == 2 and supervisor.healthy()
    supervisor.poll(1.5)
    assert wait_until(lambda: worker.lives == 3 and worker.dead())
    supervisor.poll(1.5)  # death 3 within the window: given up
    supervisor.poll(100.0)
    assert worker.lives == 3
    assert not supervisor.healthy()
    assert "dying" in supervisor.failed() and "boom" in supervisor.failed()["dying"]
    assert worker.health().given_up
    notifier = RecordingNotifier()
    watchdog = Watchdog(notifier, 1.0, StallDetector(0.0))
    assert watchdog.tick([], 10.0, healthy=supervisor.healthy()) is False
    assert notifier.sent == []
    assert watchdog.tick([], 10.0, healthy=True) is True


def test_a_non_restartable_worker_is_given_up_at_its_first_death() -> None:
    worker = Dying(deaths=1, restartable=False)
    supervisor = Supervisor()
    supervisor.watch(worker)
    worker.start()
    assert wait_until(worker.dead)
    supervisor.poll(0.0)
    assert not supervisor.healthy() and worker.lives == 1


def test_probed_threads_that_died_make_the_agent_unhealthy() -> None:
    supervisor = Supervisor()
    alive = [WorkerHealth("mqtt-link", True, 0, 0, "", None)]
    supervisor.add_probe(lambda: alive)
    supervisor.poll(0.0)
    assert supervisor.healthy()
    alive[0] = WorkerHealth("mqtt-link", False, 1, 0, "OSError: gone", None)
    supervisor.poll(1.0)
    assert supervisor.failed() == {"mqtt-link": "OSError: gone"}


def test_stop_joins_then_drains() -> None:
    worker = Draining()
    worker.start()
    assert worker.stop(2.0)
    assert worker.drained == ["done"] and not worker.dead()
