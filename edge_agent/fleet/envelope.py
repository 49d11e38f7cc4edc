"""The command request and reply documents.

Why an explicit id and expiry in every request: MQTT QoS 1 redelivers, and a broker keeps
commands queued for an offline device for as long as its session lives; the id lets the device
execute each command at most once, and the expiry lets it refuse a command that is no longer
wanted (a `restart` queued yesterday must not run today). `request_id` carries the
correlation for MQTT 3.1.1 clients, which have no correlation-data property.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_REQUEST_BYTES = 256 * 1024
"""Larger requests are refused before parsing (a full config is a few kB)."""

ReplyState = Literal["accepted", "progress", "done", "failed"]
TERMINAL_STATES = ("done", "failed")


class Signature(BaseModel):
    """HMAC-SHA256 over the canonical request (see signing.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: str = Field(..., min_length=1, max_length=64, description="Which fleet key signed.")
    nonce: str = Field(
        ..., min_length=16, max_length=64, description="Random, never reused (replay guard)."
    )
    mac: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="Hex HMAC-SHA256.")


class CommandRequest(BaseModel):
    """One command, as published on a request topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(..., pattern=ID_PATTERN, description="Unique command id (e.g. a UUID).")
    command: str = Field(..., min_length=1, max_length=64, description="Command name.")
    args: Dict[str, Any] = Field(default_factory=dict, description="Command arguments.")
    issued_at: float = Field(..., ge=0.0, description="When it was sent, UTC epoch seconds.")
    expires_at: float = Field(
        ..., ge=0.0, description="Refused as expired after this time, UTC epoch seconds."
    )
    request_id: str = Field(
        "",
        max_length=128,
        description="Echoed in every reply: the MQTT 3.1.1 stand-in for correlation data.",
    )
    sender: str = Field(
        "anonymous",
        min_length=1,
        max_length=64,
        description="Who sent it; the rate-limit key (authenticated only when signed).",
    )
    signature: Optional[Signature] = Field(None, description="Present when commands are signed.")


class CommandReply(BaseModel):
    """One step of a command's life: accepted -> progress* -> done | failed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(..., description="The command id ('' when the request had none).")
    request_id: str = Field("", description="The request's request_id, echoed.")
    device_id: str = Field(..., min_length=1, description="The replying device.")
    state: ReplyState = Field(..., description="accepted, progress, done or failed.")
    code: str = Field(
        "",
        description="Machine-readable failure class: malformed, invalid_args, unknown_command, "
        "expired, duplicate, unauthorised, rate_limited, busy, rolled_back, unsupported, error.",
    )
    reason: str = Field("", description="Human-readable reason (failed) or step (progress).")
    progress_pct: Optional[float] = Field(None, ge=0.0, le=100.0, description="Percent done.")
    result: Dict[str, Any] = Field(default_factory=dict, description="Command output (done).")
    ts: float = Field(..., ge=0.0, description="When the device sent it, UTC epoch seconds.")

    @property
    def terminal(self) -> bool:
        """True for done and failed: nothing follows."""
        return self.state in TERMINAL_STATES


def encode(model: BaseModel) -> bytes:
    """Compact UTF-8 JSON, the wire form."""
    return model.model_dump_json(exclude_none=True).encode("utf-8")


def best_effort_ids(payload: bytes) -> Dict[str, str]:
    """`id` and `request_id` from a request that failed validation, so its reply still
    correlates; empty strings when the payload is not even a JSON object."""
    try:
        data = json.loads(payload[:MAX_REQUEST_BYTES])
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {"id": "", "request_id": ""}
    if not isinstance(data, dict):
        return {"id": "", "request_id": ""}
    found = {}
    for key in ("id", "request_id"):
        value = data.get(key)
        found[key] = value[:128] if isinstance(value, str) else ""
    return found
