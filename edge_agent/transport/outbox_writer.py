"""OutboxWriter: group commit, so the power-loss-safe outbox keeps up with bursts.

Why: with ``synchronous=FULL`` every commit costs one fsync of the WAL (milliseconds on flash),
and one commit per event caps the rate at one event per fsync. Here ``publish()`` only stages
the event in a bounded RAM queue; the ``outbox-writer`` thread commits everything staged (and
every acknowledged row the link thread handed over for deletion) in ONE transaction, so events
that arrive while an fsync is running share the next one. The link thread reads through a
separate connection that sees committed rows only: an event is on disk before it is sent.

Durability contract:
- ``stage()`` returning: the event is in RAM, in order, and will be committed within one
  commit cycle (the fsync in progress plus the next one, milliseconds).
- Power loss or SIGKILL loses at most what was staged and not yet committed: at most
  ``MAX_STAGED`` events, in practice those of the last few milliseconds.
- ``wait_committed()`` / ``sync()`` block until a ticket / everything staged so far is
  committed; ``outbox.publish_waits_for_commit`` makes every publish() do that.

When the disk cannot keep up and the staging queue is full, ``stage()`` waits up to
``STAGE_WAIT_S`` for room (back-pressure), then refuses the event (counted, logged).

When a commit fails (full or failing disk) its events are refused (counted by the outbox) but
the acknowledged rows it was to delete are kept and retried, alone, every ``RETRY_S`` until
the deletion sticks: they are not sent again meanwhile (``Outbox.mark_acked``). The thread is
a WatchedThread: if it ever dies, the traceback is logged and ``report()`` says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable, Deque, List, Optional, Sequence

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.transport.outbox import CommitResult, Outbox
from edge_agent.transport.outbox_records import Staged
from edge_agent.transport.watched_thread import ThreadReport, WatchedThread

logger = logging.getLogger(__name__)

MAX_STAGED = 4096
"""Events waiting for their commit; the bound on what a power loss can take."""
STAGE_WAIT_S = 2.0
"""How long stage() waits for room before it refuses (the disk stalled)."""
_MAX_BATCH = 2048
RETRY_S = 1.0
"""Pause before retrying deletions after a failed commit (and the idle tick of the thread)."""


class OutboxWriter:
    """The single thread that writes the outbox (see module docstring)."""

    def __init__(
        self,
        outbox: Outbox,
        on_commit: Callable[[], None],
        on_refused: Callable[[int, str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``on_commit`` runs after every commit (wake the sender); ``on_refused(count,
        reason)`` when a commit refused messages (the outbox already counted them)."""
        self._outbox = outbox
        self._on_commit = on_commit
        self._on_refused = on_refused
        self._clock = clock
        self._cond = threading.Condition()
        self._staged: Deque[Staged] = deque()
        self._deletes: List[int] = []
        self._in_commit = 0
        self._staged_tickets = 0
        self._committed_tickets = 0
        self._stopping = False
        self._retry_at = 0.0
        self._dead = False
        self._thread: Optional[WatchedThread] = None
        self._watch = WatchedThread("outbox-writer", self._run, self._on_death)

    def start(self) -> None:
        """Start the writer thread (the outbox must be open)."""
        if self._thread is not None:
            raise RuntimeError("OutboxWriter.start() called twice")
        self._stopping = False
        self._dead = False
        self._thread = self._watch
        self._watch.start()

    def report(self) -> ThreadReport:
        """Liveness of the writer thread."""
        return self._watch.report()

    def _on_death(self, reason: str) -> None:
        """Wake every producer and waiter: nothing will be committed any more."""
        with self._cond:
            self._thread = None
            self._dead = True
            lost = len(self._staged) + self._in_commit
            self._staged.clear()
            self._in_commit = 0
            self._cond.notify_all()
        why = f"outbox writer died: {reason}"
        self._outbox.count_refused(lost, why)  # what it held will never be committed
        self._on_refused(lost, why)

    def stage(self, msg: OutgoingMessage) -> Optional[int]:
        """Queue one message for the next commit; returns its ticket, or None when the
        writer is not running or stayed full for STAGE_WAIT_S (the caller counts it)."""
        deadline = time.monotonic() + STAGE_WAIT_S
        with self._cond:
            while len(self._staged) >= MAX_STAGED and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._thread is None or self._stopping or len(self._staged) >= MAX_STAGED:
                return None
            self._staged.append((msg, self._clock()))
            self._staged_tickets += 1
            self._cond.notify_all()
            return self._staged_tickets

    def delete(self, ids: Sequence[int]) -> None:
        """Delete acknowledged rows in the next commit (at once when the thread is not running)."""
        if not ids:
            return
        self._outbox.mark_acked(ids)
        with self._cond:
            if self._thread is not None:
                self._deletes.extend(ids)
                self._cond.notify_all()
                return
        self._outbox.delete(ids)

    def uncommitted(self) -> int:
        """Events staged or being committed (not yet visible to the sender)."""
        with self._cond:
            return len(self._staged) + self._in_commit

    def wait_committed(self, ticket: int, timeout_s: float) -> bool:
        """Block until the event with ``ticket`` (and all before it) is committed."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._committed_tickets < ticket:
                if self._dead:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def sync(self, timeout_s: float) -> bool:
        """Block until everything staged so far is committed; False after ``timeout_s``."""
        with self._cond:
            ticket = self._staged_tickets
        return self.wait_committed(ticket, timeout_s)

    def stop(self, timeout_s: float) -> None:
        """Commit what is staged, then end the thread."""
        thread = self._thread
        if thread is None:
            return
        thread.stopping()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if not thread.join(timeout_s):
            logger.warning("the outbox writer did not finish within %.1f s", timeout_s)
            return
        self._thread = None

    def _run(self) -> None:
        batch: List[Staged] = []
        deletes: List[int] = []
        count = 0
        while True:
            with self._cond:
                if not self._has_work() and not self._stopping:
                    self._cond.wait(RETRY_S)
                work = self._has_work()
                if not work and self._stopping:
                    return  # nothing left (deletions a failing disk refuses stay undone)
                if work:
                    count = min(len(self._staged), _MAX_BATCH)
                    batch = [self._staged.popleft() for _ in range(count)]
                    deletes, self._deletes = self._deletes, []
                    self._in_commit = count
                    self._cond.notify_all()  # room for producers waiting in stage()
            if not work:
                self._outbox.tick()  # idle: reopen a failed file, log summed losses
                continue
            try:
                result = self._outbox.commit(batch, deletes)
            except Exception:  # noqa: BLE001 - a bug here must not stop every later commit
                logger.exception("outbox commit failed")
                result = CommitResult(False, [None] * count)
            if not result.ok and batch and deletes:
                result_deletes = self._outbox.commit((), deletes)  # deletions need less room
                if result_deletes.ok:
                    deletes = []
            refused = sum(1 for row_id in result.ids if row_id is None)
            with self._cond:
                self._in_commit = 0
                self._committed_tickets += count
                if not result.ok and deletes:
                    self._deletes[:0] = deletes  # keep them, in order, for the retry
                    self._retry_at = time.monotonic() + RETRY_S
                self._cond.notify_all()
            if refused:
                self._on_refused(refused, self._outbox.last_error)
            self._on_commit()

    def _failing(self) -> bool:
        return time.monotonic() < self._retry_at

    def _has_work(self) -> bool:
        """Staged events, or deletions whose retry pause is over (lock held)."""
        return bool(self._staged) or (bool(self._deletes) and not self._failing())
