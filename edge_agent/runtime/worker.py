"""The one thread skeleton every long-lived worker uses: start, stop, drain, and a visible death.

Why a base: five workers (capture, executors, events, telemetry, state saving) each copied
start/stop/join, and none of them told anyone when its thread died of an exception. Here the
thread body is wrapped once: an exception that escapes `run()` is logged with its traceback,
counted and kept as `last_error`, and the worker reports itself dead until the supervisor
(runtime/supervisor.py) restarts it or gives up. Progress (`beat()`) is separate from
liveness: a thread that is alive but stuck shows an old `last_progress_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Optional

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerHealth:
    """One worker as the status line, telemetry and the watchdog see it."""

    name: str
    alive: bool
    deaths: int
    restarts: int
    last_error: str
    last_progress_s: Optional[float]
    given_up: bool = False


class Worker:
    """A named daemon thread running `run(stop)`; subclasses implement `run` and maybe `drain`.

    `run` must return soon after `stop` is set. `drain` runs on the caller's thread after the
    worker thread ended (or did not end in time), to hand on what was already computed.
    `restartable` says whether a fresh thread may continue where a dead one left off: true for
    stateless loops over their inputs, false where a death may have left state half-changed.
    """

    restartable = True

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._deaths = 0
        self._restarts = 0
        self._last_error = ""
        self._last_progress_s: Optional[float] = None
        self._given_up = False
        self._completed = False

    # to implement

    def run(self, stop: threading.Event) -> None:
        """The thread body; loops until `stop` is set."""
        raise NotImplementedError

    def drain(self, timeout_s: float) -> None:
        """Hand on results already computed (after the thread ended); default: nothing."""
        return None

    # lifecycle

    def start(self) -> None:
        """Start the thread, once; a dead worker is started again only through restart()."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError(f"worker {self.name!r} already started")
        self._spawn()

    def _spawn(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise RuntimeError(f"worker {self.name!r} already running")
            self._stop.clear()
            self._completed = False
            self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
            self._thread.start()

    def restart(self) -> None:
        """Start a fresh thread after a death (the supervisor calls this)."""
        with self._lock:
            self._restarts += 1
        self._spawn()

    def stop(self, timeout_s: float) -> bool:
        """Ask the thread to end, wait up to timeout_s, then drain; True when it ended."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        self._stop.set()
        self.on_stop_requested()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
        ended = thread is None or not thread.is_alive()
        if not ended:
            logger.warning("worker %s still busy after %.1f s", self.name, timeout_s)
        self.drain(max(0.0, deadline - time.monotonic()))
        return ended

    def on_stop_requested(self) -> None:
        """Hook: wake anything `run` blocks on (default: nothing)."""
        return None

    @property
    def stopping(self) -> bool:
        """True once stop() was called."""
        return self._stop.is_set()

    def complete(self) -> None:
        """Called by `run` before returning on purpose without a stop (e.g. end of a file)."""
        self._completed = True

    def beat(self) -> None:
        """Record progress (a frame captured, a batch run, a message built)."""
        self._last_progress_s = time.monotonic()

    def give_up(self) -> None:
        """Mark the worker as abandoned by the supervisor (it stays dead)."""
        with self._lock:
            self._given_up = True

    def alive(self) -> bool:
        """True while the thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def dead(self) -> bool:
        """True when the thread ended by an exception and nobody asked it to stop."""
        return self._thread is not None and not self.alive() and not self._stop.is_set() and (
            self._deaths > 0
        )

    def health(self) -> WorkerHealth:
        """A consistent snapshot of this worker's liveness and progress."""
        with self._lock:
            return WorkerHealth(
                self.name, self.alive(), self._deaths, self._restarts, self._last_error,
                self._last_progress_s, self._given_up,
            )

    def _main(self) -> None:
        try:
            self.run(self._stop)
        except BaseException as err:  # noqa: BLE001 - a death must be seen, whatever killed it
            with self._lock:
                self._deaths += 1
                self._last_error = f"{type(err).__name__}: {err}"
            logger.exception("worker %s died: %s", self.name, self._last_error)
            return
        if not self._stop.is_set() and not self._completed:
            # Returning without being asked to is a death too (nobody runs its loop any more).
            with self._lock:
                self._deaths += 1
                self._last_error = "returned without a stop request"
            logger.error("worker %s ended without being asked to stop", self.name)
