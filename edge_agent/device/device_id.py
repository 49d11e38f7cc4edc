"""Derive a stable device id when the configuration says `auto`.

The id becomes an MQTT topic level and client id, so it must be unique per box and stable
across reboots and reinstalls: /etc/machine-id (systemd, also on JetPack) is both. A
container without it falls back to the host name, which is stable for a named container.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

from edge_agent.errors import ConfigError

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def resolve_device_id(configured: str, root: Path = Path("/")) -> str:
    """Return `configured` unless it is 'auto'; then 'ea-' plus 12 hex of the machine id."""
    if configured != "auto":
        return configured
    machine_id_path = root / "etc" / "machine-id"
    try:
        machine_id = machine_id_path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        machine_id = ""
    if re.fullmatch(r"[0-9a-f]{32}", machine_id):
        return f"ea-{machine_id[:12]}"
    hostname = _UNSAFE.sub("-", socket.gethostname()).strip("-")[:60]
    if hostname:
        return f"ea-{hostname}"
    raise ConfigError(
        f"device.id is 'auto' but {machine_id_path} is missing and the host has no name",
        "set device.id in the config (letters, digits, '-', '_') or EDGE_AGENT_DEVICE__ID",
    )
