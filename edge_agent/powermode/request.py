"""The agent's side of a power-mode change: validate, write the request, read the outcome.

The agent validates against the same nvpmodel.conf first, so a typo is answered at once with
the list of valid modes instead of a refusal in the helper's journal; the helper validates
again because it must not trust the file. The request is written to a temporary file and
renamed, so the path unit (PathChanged=) never fires on a half-written ID.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from edge_agent.device.nvpmodel import ModeTable, PowerMode
from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.powermode import REQUEST_NAME, RESULT_NAME
from edge_agent.powermode.validate import PowerModeRequestError, load_table, resolve_mode


@dataclass(frozen=True)
class PowerModeResult:
    """What the privileged helper last did (its result.json)."""

    applied: bool
    mode_id: Optional[int]
    mode_name: str
    error: str
    at_s: float


def read_table(conf_path: Path) -> ModeTable:
    """This device's mode table; InputNotFoundError off a Jetson or when unreadable."""
    try:
        text = conf_path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise InputNotFoundError(
            f"cannot read the power-mode table {conf_path}: {err.strerror}",
            "power modes exist only on a Jetson (nvpmodel); pass --conf FILE elsewhere",
        ) from None
    try:
        return load_table(text)
    except PowerModeRequestError as err:
        raise ConfigError(f"{conf_path}: {err}", "check the nvpmodel.conf of this board") from None


def write_request(request_dir: Path, mode_text: str, table: ModeTable) -> PowerMode:
    """Validate `mode_text` (ID or name) and atomically write the request; returns the mode."""
    try:
        mode = resolve_mode(mode_text, table)
    except PowerModeRequestError as err:
        raise ConfigError(str(err), "pick one of the listed modes (ID or name)") from None
    request_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
    temporary = request_dir / f".{REQUEST_NAME}.{os.getpid()}"
    temporary.write_text(f"{mode.id}\n", encoding="ascii")
    temporary.replace(request_dir / REQUEST_NAME)
    return mode


def read_result(result_dir: Path) -> Optional[PowerModeResult]:
    """The helper's last outcome, or None when it has not run yet."""
    try:
        data: Dict[str, Any] = json.loads((result_dir / RESULT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    mode_id = data.get("mode_id")
    return PowerModeResult(
        applied=bool(data.get("applied")),
        mode_id=mode_id if isinstance(mode_id, int) else None,
        mode_name=str(data.get("mode_name", "")),
        error=str(data.get("error", "")),
        at_s=float(data.get("at_s", 0.0)),
    )
