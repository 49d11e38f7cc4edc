"""The device's fleet settings (an `[fleet]` section the daemon can embed)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FleetSettings(BaseModel):
    """Remote commands: where ids are remembered, signing, rate limits, opt-ins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Listen for fleet commands.")
    site: str = Field("default", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
                      description="Site name: commands to the site reach this device.")
    ledger_path: Path = Field(
        Path("/var/lib/edge-agent/fleet-ledger.sqlite"),
        description="Command ids seen (at-most-once across restarts).",
    )
    id_memory_s: float = Field(
        86400.0, gt=0.0,
        description="Ids are kept until the command's expiry plus this margin (clock skew).",
    )
    max_lifetime_s: float = Field(
        7 * 86400.0, gt=0.0,
        description="Commands whose expiry lies further ahead are refused (bounds the ledger).",
    )
    require_signature: bool = Field(False, description="Refuse unsigned commands.")
    keys: Dict[str, str] = Field(
        default_factory=dict,
        description="Fleet keys: key id -> hex secret (>= 32 bytes). Several during rotation.",
    )
    signature_window_s: float = Field(300.0, gt=0.0, description="Allowed clock difference, s.")
    rate_per_s: float = Field(2.0, gt=0.0, description="Commands per second per sender.")
    burst: int = Field(20, ge=1, description="Commands a sender may send at once.")
    queue_size: int = Field(32, ge=1, le=1024, description="Accepted commands waiting to run.")
    snapshots_enabled: bool = Field(
        False, description="Allow the snapshot command (images leave the device)."
    )

    @field_validator("keys")
    @classmethod
    def _check_keys(cls, value: Dict[str, str]) -> Dict[str, str]:
        for key_id, secret in value.items():
            try:
                raw = bytes.fromhex(secret)
            except ValueError:
                raise ValueError(f"keys.{key_id}: not hex") from None
            if len(raw) < 32:
                raise ValueError(f"keys.{key_id}: {len(raw)} bytes; use at least 32 random bytes")
        return value

    def keyring(self) -> Dict[str, bytes]:
        """key id -> secret bytes."""
        return {key_id: bytes.fromhex(secret) for key_id, secret in self.keys.items()}
