"""WatchedThread: a worker thread whose death is never silent.

Why: Python prints an uncaught exception of a thread to stderr and forgets it; the process
carries on with, say, no MQTT link while ``stats()`` still says connected. Here the body is
wrapped: an exception is logged with its traceback, counted, kept (``report()``) and handed to
``on_death`` so the owner can fix up its state; a body that returns while it was meant to run
counts as a death too. The owner's ``health()`` (DurablePublisher) gathers these reports for
the supervisor that feeds the systemd watchdog.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass
from typing import Callable, Optional

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThreadReport:
    """One worker thread's liveness."""

    name: str
    alive: bool
    """Running now."""
    deaths: int
    """Times it ended by an exception or while it was meant to run."""
    last_error: str
    """Why it died last ('' if never): the exception and the line it came from."""


class WatchedThread:
    """A daemon thread running ``target`` once; see the module docstring."""

    def __init__(
        self,
        name: str,
        target: Callable[[], None],
        on_death: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.name = name
        self._target = target
        self._on_death = on_death
        self._thread: Optional[threading.Thread] = None
        self._stopping = False
        self._deaths = 0
        self._last_error = ""
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread (again, after a death or a stop)."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stopping(self) -> None:
        """The owner asked the body to end: a return from now on is not a death."""
        self._stopping = True

    def join(self, timeout_s: float) -> bool:
        """Wait for the end; True when the thread is gone."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        return not thread.is_alive()

    def is_alive(self) -> bool:
        """Running now."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def report(self) -> ThreadReport:
        """Liveness, deaths and the last reason."""
        with self._lock:
            return ThreadReport(self.name, self.is_alive(), self._deaths, self._last_error)

    def _run(self) -> None:
        try:
            self._target()
        except BaseException as exc:  # noqa: BLE001 - the point is to report every death
            frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            where = f" at {frame[0].filename}:{frame[0].lineno}" if frame else ""
            self._died(f"{type(exc).__name__}: {exc}{where}", exc)
            return
        if not self._stopping:
            self._died("ended while it was meant to run", None)

    def _died(self, reason: str, exc: Optional[BaseException]) -> None:
        with self._lock:
            self._deaths += 1
            self._last_error = reason
        if exc is not None:
            logger.error("thread %s died: %s", self.name, reason, exc_info=exc)
        else:
            logger.error("thread %s %s", self.name, reason)
        if self._on_death is not None:
            try:
                self._on_death(reason)
            except Exception:  # noqa: BLE001 - a failing clean-up must not hide the death
                logger.exception("clean-up after the death of thread %s failed", self.name)
