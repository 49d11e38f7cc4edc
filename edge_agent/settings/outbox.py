"""Outbox settings: where undelivered events wait on disk, how much may wait, and how safely.

Why explicit bounds: every reference store-and-forward system caps its queue by time and size
and names what happens when it is full (edgeHub TTL 7200 s, Greengrass 256 MB with
RejectNewData / OverwriteOldestData, Kura 10 000 messages); an unbounded queue only moves the
failure to a full disk.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from typing_extensions import Literal

from edge_agent.settings.base import StrictModel

OverflowPolicy = Literal["drop_oldest", "refuse_new"]
SyncMode = Literal["FULL", "NORMAL"]


class OutboxSettings(StrictModel):
    """The on-disk queue of state and event messages not yet acknowledged by the broker."""

    path: Path = Field(
        Path("/var/lib/edge-agent/outbox.sqlite"),
        description=(
            "SQLite file of the outbox; its directory is created (mode 0700) if missing. One "
            "agent per file: a second one is refused."
        ),
    )
    max_rows: int = Field(
        100_000, ge=10, description="Most messages kept; beyond it the overflow policy applies."
    )
    max_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024 * 1024,
        description=(
            "Most bytes the outbox files take on disk (database + WAL + index; 256 MiB, as "
            "Greengrass streams); then the overflow policy applies. Checked at start against "
            "the free space of its file system (a warning when it does not fit)."
        ),
    )
    max_age_s: float = Field(
        7200.0,
        gt=0.0,
        description="Messages older than this (seconds) are deleted unsent and counted expired.",
    )
    overflow: OverflowPolicy = Field(
        "drop_oldest",
        description=(
            "When full: 'drop_oldest' deletes the oldest messages to make room, 'refuse_new' "
            "keeps the backlog and refuses new ones; both are counted and logged."
        ),
    )
    synchronous: SyncMode = Field(
        "FULL",
        description=(
            "SQLite PRAGMA synchronous in WAL mode. 'FULL' fsyncs every commit: committed "
            "messages survive power loss. 'NORMAL' survives a crash or SIGKILL but may lose "
            "the last commits on power loss. Commits are grouped (one fsync for every message "
            "published while the previous fsync ran), so FULL costs little throughput."
        ),
    )
    publish_waits_for_commit: bool = Field(
        False,
        description=(
            "false: publish() returns once the message is staged in RAM and the writer thread "
            "commits it within milliseconds; power loss or SIGKILL can lose the messages of "
            "that window (at most 4096). true: publish() returns only after the message is "
            "committed (no loss window; one commit per message from a single producer, "
            "slower). Either way a message is on disk before it is sent, and flush() waits "
            "for commit and PUBACK."
        ),
    )
    max_inflight: int = Field(
        100,
        ge=1,
        le=65535,
        description="Messages sent and not yet acknowledged at once (the replay window).",
    )
