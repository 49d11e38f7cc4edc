"""Validate a power-mode request against the device's mode table: the privilege boundary.

A request crosses from an unprivileged user to root, so it is parsed as strictly as
possible: at most a few ASCII digits and one optional newline, nothing else, and the ID must
be one the device's nvpmodel.conf defines. Anything else is refused with a reason; nothing
from the request ever reaches a command line except the validated integer.
"""

from __future__ import annotations

from typing import List, Optional

from edge_agent.device.nvpmodel import ModeTable, PowerMode, parse_nvpmodel_conf

MAX_REQUEST_BYTES = 16
_MAX_ID_DIGITS = 4


class PowerModeRequestError(ValueError):
    """A request that must not be applied; the message says why."""


def parse_request(raw: bytes) -> int:
    """The mode ID in a request file's bytes ('2' or '2\\n'); PowerModeRequestError otherwise."""
    if len(raw) > MAX_REQUEST_BYTES:
        raise PowerModeRequestError(f"request is {len(raw)} bytes; at most {MAX_REQUEST_BYTES}")
    text = raw[:-1] if raw.endswith(b"\n") else raw
    if not text:
        raise PowerModeRequestError("request is empty; write a mode ID such as 0")
    if not text.isdigit() or not text.isascii():
        raise PowerModeRequestError(f"request {text!r} is not a decimal mode ID")
    if len(text) > _MAX_ID_DIGITS:
        raise PowerModeRequestError(f"mode ID {text.decode()} has over {_MAX_ID_DIGITS} digits")
    return int(text)


def load_table(conf_text: str) -> ModeTable:
    """The mode table of an nvpmodel.conf; PowerModeRequestError when it defines no mode."""
    table = parse_nvpmodel_conf(conf_text)
    if not table.modes:
        raise PowerModeRequestError("nvpmodel.conf defines no POWER_MODEL; cannot validate")
    return table


def validate_mode(mode_id: int, table: ModeTable) -> PowerMode:
    """The mode `mode_id` names in `table`; PowerModeRequestError when the device lacks it."""
    mode = table.modes.get(mode_id)
    if mode is None:
        known = ", ".join(f"{m.id} ({m.name})" for m in sorted_modes(table))
        raise PowerModeRequestError(f"mode {mode_id} is not in this device's table: {known}")
    return mode


def resolve_mode(text: str, table: ModeTable) -> PowerMode:
    """A mode given by ID ('2') or name ('MODE_15W', case-insensitive), as a user types it."""
    value = text.strip()
    if value.isdigit():
        return validate_mode(parse_request(value.encode("ascii")), table)
    mode: Optional[PowerMode] = table.by_name(value)
    if mode is None:
        known = ", ".join(f"{m.id} ({m.name})" for m in sorted_modes(table))
        raise PowerModeRequestError(f"no power mode named {value!r}; this device has {known}")
    return mode


def sorted_modes(table: ModeTable) -> List[PowerMode]:
    """Modes in ID order."""
    return [table.modes[key] for key in sorted(table.modes)]
