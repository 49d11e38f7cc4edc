"""Chunked transfer of large prompt documents over a broker with a message size limit.

A prompt with a few full-HD example images is megabytes; brokers commonly cap messages far
lower (mosquitto's `message_size_limit`, cloud brokers at 128-256 KiB). The sender cuts the
document into numbered chunks, each a small JSON message carrying the header below and a
base64 slice; the device reassembles them in any order, ignores exact duplicates (QoS 1 is
at-least-once), refuses conflicting ones, drops transfers idle longer than the timeout, bounds
how many transfers and bytes it holds, and checks the whole document's sha256 before use.

Pure: no clock (callers pass monotonic seconds), no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge_agent.errors import ConfigError
from edge_agent.settings.base import ID_PATTERN

MAX_CHUNKS = 4096


class PromptChunk(BaseModel):
    """One chunk message of a transfer (the JSON a fleet tool publishes per chunk)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transfer_id: str = Field(..., pattern=ID_PATTERN,
                             description="Sender-chosen id shared by every chunk of a transfer.")
    index: int = Field(..., ge=0, description="Position of this chunk, 0-based.")
    count: int = Field(..., ge=1, le=MAX_CHUNKS, description="Chunks in the transfer.")
    total_bytes: int = Field(..., ge=1, description="Length of the whole document in bytes.")
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$",
                        description="sha256 of the whole document, lower-case hex.")
    data: str = Field(..., description="This chunk's bytes, base64 (standard alphabet).")

    @model_validator(mode="after")
    def _index_in_range(self) -> PromptChunk:
        if self.index >= self.count:
            raise ValueError(f"index {self.index} must be below count {self.count}")
        return self


def parse_chunk(payload: bytes, source: str) -> PromptChunk:
    """Validate one chunk message; ConfigError naming `source` and the bad fields."""
    try:
        return PromptChunk.model_validate_json(payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"{source}: not a prompt chunk: {problems}",
                          "send JSON with transfer_id, index, count, total_bytes, sha256, data"
                          ) from exc


def split_document(document: bytes, transfer_id: str, max_chunk_bytes: int) -> List[PromptChunk]:
    """The chunks a sender publishes for `document`, each slice at most `max_chunk_bytes`."""
    if max_chunk_bytes < 1:
        raise ValueError(f"max_chunk_bytes must be positive, got {max_chunk_bytes}")
    if not document:
        raise ValueError("document must not be empty")
    digest = hashlib.sha256(document).hexdigest()
    slices = [document[i:i + max_chunk_bytes] for i in range(0, len(document), max_chunk_bytes)]
    return [PromptChunk(transfer_id=transfer_id, index=i, count=len(slices),
                        total_bytes=len(document), sha256=digest,
                        data=base64.b64encode(part).decode("ascii"))
            for i, part in enumerate(slices)]


@dataclass
class _Transfer:
    count: int
    total_bytes: int
    sha256: str
    last_seen_s: float
    parts: Dict[int, bytes] = field(default_factory=dict)

    @property
    def held_bytes(self) -> int:
        return sum(len(p) for p in self.parts.values())


@dataclass(frozen=True)
class ReassemblyStats:
    """What the reassembler holds and has done."""

    in_progress: int
    held_bytes: int
    completed: int
    expired: int
    duplicates: int


class ChunkReassembler:
    """Collects chunks per transfer; `accept` returns the document when its last chunk lands."""

    def __init__(self, timeout_s: float, max_transfers: int, max_document_bytes: int) -> None:
        if timeout_s <= 0 or max_transfers < 1 or max_document_bytes < 1:
            raise ValueError("timeout_s, max_transfers and max_document_bytes must be positive")
        self._timeout_s = timeout_s
        self._max_transfers = max_transfers
        self._max_bytes = max_document_bytes
        self._transfers: Dict[str, _Transfer] = {}
        self._completed = 0
        self._expired = 0
        self._duplicates = 0

    def accept(self, chunk: PromptChunk, now_s: float) -> Optional[bytes]:
        """Take one chunk; the whole document once complete and verified, else None.

        Raises ConfigError (and forgets the transfer) on a chunk that contradicts earlier
        ones, a document over the size limit, or a final sha256 mismatch.
        """
        self.expire(now_s)
        where = f"prompt transfer {chunk.transfer_id!r}"
        if chunk.total_bytes > self._max_bytes:
            raise ConfigError(f"{where}: document is {chunk.total_bytes} bytes, the limit is "
                              f"{self._max_bytes}", "send fewer or smaller example images")
        try:
            data = base64.b64decode(chunk.data.encode("ascii"), validate=True)
        except (binascii.Error, ValueError) as exc:
            self._transfers.pop(chunk.transfer_id, None)
            raise ConfigError(f"{where}: chunk {chunk.index} data is not base64",
                              "encode each slice with standard base64") from exc
        transfer = self._transfers.get(chunk.transfer_id)
        if transfer is None:
            if len(self._transfers) >= self._max_transfers:
                raise ConfigError(f"{where}: already {self._max_transfers} transfers in progress",
                                  "wait for them to finish or time out, then resend")
            transfer = _Transfer(chunk.count, chunk.total_bytes, chunk.sha256, now_s)
            self._transfers[chunk.transfer_id] = transfer
        elif (transfer.count, transfer.total_bytes, transfer.sha256) != (
                chunk.count, chunk.total_bytes, chunk.sha256):
            self._transfers.pop(chunk.transfer_id)
            raise ConfigError(f"{where}: chunk {chunk.index} disagrees with earlier chunks on "
                              "count, total_bytes or sha256", "resend the whole transfer")
        transfer.last_seen_s = now_s
        known = transfer.parts.get(chunk.index)
        if known is not None:
            if known != data:
                self._transfers.pop(chunk.transfer_id)
                raise ConfigError(f"{where}: chunk {chunk.index} arrived twice with different "
                                  "data", "resend the whole transfer under a new transfer_id")
            self._duplicates += 1
            return None
        if transfer.held_bytes + len(data) > transfer.total_bytes:
            self._transfers.pop(chunk.transfer_id)
            raise ConfigError(f"{where}: chunks hold more than total_bytes "
                              f"({transfer.total_bytes})", "resend the whole transfer")
        transfer.parts[chunk.index] = data
        if len(transfer.parts) < transfer.count:
            return None
        del self._transfers[chunk.transfer_id]
        document = b"".join(transfer.parts[i] for i in range(transfer.count))
        if len(document) != transfer.total_bytes or (
                hashlib.sha256(document).hexdigest() != transfer.sha256):
            raise ConfigError(f"{where}: reassembled document does not match its sha256 / size",
                              "resend the whole transfer")
        self._completed += 1
        return document

    def expire(self, now_s: float) -> List[str]:
        """Drop transfers with no chunk for longer than the timeout; their ids."""
        stale = [tid for tid, t in self._transfers.items()
                 if now_s - t.last_seen_s > self._timeout_s]
        for tid in stale:
            del self._transfers[tid]
        self._expired += len(stale)
        return stale

    def stats(self) -> ReassemblyStats:
        """Counters and what is held now."""
        return ReassemblyStats(len(self._transfers),
                               sum(t.held_bytes for t in self._transfers.values()),
                               self._completed, self._expired, self._duplicates)
