"""The outbox's plain values: a staged message, a row read back, counters and running totals.

Why apart from Outbox: the writer thread, the link thread and telemetry all pass these around,
and none of them needs SQLite to do so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from edge_agent.events.publisher import OutgoingMessage

Staged = Tuple[OutgoingMessage, float]
"""A message and the wall-clock time publish() received it (its age counts from then)."""


@dataclass(frozen=True)
class OutboxRow:
    """One queued message, as read back for sending."""

    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    created_s: float


@dataclass(frozen=True)
class OutboxCounters:
    """Contents now, plus what was lost since open()."""

    depth: int
    """Rows waiting to be sent or acknowledged (rejected rows not included)."""
    rows: int
    """All rows, rejected included (what the limits apply to)."""
    bytes: int
    oldest_age_s: Optional[float]
    dropped: int
    """Deleted unsent by drop_oldest."""
    refused: int
    """Appends refused: refuse_new when full, bigger than max_bytes, or a write error."""
    expired: int
    rejected: int
    """Rows the broker refused since open()."""
    write_errors: int = 0
    """Transactions the file system refused (full, read-only, failing) since open()."""
    available: bool = True
    """False while the outbox cannot be written (durable messages are being refused)."""


class Totals:
    """Row, byte and loss figures; mutated only by the write-lock holder."""

    def __init__(self) -> None:
        self.rows = self.bytes = self.rejected_rows = 0
        self.dropped = self.refused = self.expired = self.rejected = 0
        self.write_errors = 0

    def copy(self) -> Totals:
        """An independent snapshot (a transaction works on it and swaps it in on COMMIT)."""
        other = Totals()
        other.__dict__.update(self.__dict__)
        return other
