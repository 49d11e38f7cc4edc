"""sd_notify: tell systemd the agent is ready, reloading, stopping, alive, and how it is.

systemd-python's `systemd.daemon.notify` is used when it is installed (JetPack images often
have python3-systemd); otherwise a few lines of socket code speak the same datagram protocol:
one AF_UNIX SOCK_DGRAM message of newline-separated KEY=VALUE fields sent to $NOTIFY_SOCKET,
where a leading '@' names a socket in the abstract namespace (sd_notify(3)). Only fields that
systemd 245 understands are sent (READY, RELOADING, STOPPING, STATUS, WATCHDOG).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
from typing import Callable, Mapping, Optional

from typing_extensions import Protocol

logger = logging.getLogger(__name__)

_MAX_STATUS_CHARS = 512  # STATUS= is shown by `systemctl status`; keep it one short line


class Notifier(Protocol):
    """Sends one sd_notify message (newline-separated KEY=VALUE fields); True when sent."""

    def send(self, message: str) -> bool: ...

    def close(self) -> None: ...


def socket_address(value: str) -> str:
    """The address to connect to for a NOTIFY_SOCKET value ('@name' is abstract: NUL + name)."""
    if value.startswith("@"):
        return "\0" + value[1:]
    return value


def one_line(text: str) -> str:
    """STATUS= must be a single line: newlines become ' / ', length is capped."""
    flat = " / ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat[:_MAX_STATUS_CHARS]


class SocketNotifier:
    """Pure-Python sd_notify over the datagram socket named by NOTIFY_SOCKET."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._sock: Optional[socket.socket] = None
        self._warned = False

    def send(self, message: str) -> bool:
        """Send `message`; a failure is logged once and reported as False, never raised."""
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.connect(socket_address(self._address))
            self._sock.send(message.encode("utf-8"))
            return True
        except OSError as err:
            if not self._warned:
                logger.warning("sd_notify to %s failed: %s", self._address, err)
                self._warned = True
            self.close()
            return False

    def close(self) -> None:
        """Close the socket (reopened on the next send)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class LibsystemdNotifier:
    """sd_notify through systemd-python (libsystemd's own implementation)."""

    def __init__(self, notify: Callable[[str], bool]) -> None:
        self._notify = notify

    def send(self, message: str) -> bool:
        """Send `message` with libsystemd."""
        try:
            return bool(self._notify(message))
        except OSError as err:
            logger.warning("sd_notify failed: %s", err)
            return False

    def close(self) -> None:
        """Nothing to release: libsystemd opens a socket per call."""


def _libsystemd_notify() -> Optional[Callable[[str], bool]]:
    try:
        # systemd-python is optional; imported by name so its absence is no type error.
        daemon = importlib.import_module("systemd.daemon")
    except ImportError:
        return None
    notify = getattr(daemon, "notify", None)
    return notify if callable(notify) else None


def notifier_from_environ(
    environ: Mapping[str, str], prefer_libsystemd: bool = True
) -> Optional[Notifier]:
    """The notifier for this process, or None when systemd did not ask for notifications."""
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return None
    if prefer_libsystemd:
        notify = _libsystemd_notify()
        if notify is not None and environ is os.environ:
            # libsystemd reads NOTIFY_SOCKET from the real environment itself.
            return LibsystemdNotifier(notify)
    if not (address.startswith("/") or address.startswith("@")):
        logger.warning("NOTIFY_SOCKET=%s is not a path or abstract socket; not notifying", address)
        return None
    return SocketNotifier(address)


def watchdog_interval_s(environ: Mapping[str, str], pid: int) -> Optional[float]:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when not asked.

    WATCHDOG_PID, when set, names the process the watchdog is meant for (sd_watchdog_enabled(3));
    a child that inherited the environment must not ping on its parent's behalf.
    """
    usec_text = environ.get("WATCHDOG_USEC", "")
    if not usec_text:
        return None
    wanted_pid = environ.get("WATCHDOG_PID", "")
    if wanted_pid and wanted_pid.isdigit() and int(wanted_pid) != pid:
        return None
    try:
        usec = int(usec_text)
    except ValueError:
        logger.warning("WATCHDOG_USEC=%r is not an integer; watchdog disabled", usec_text)
        return None
    if usec <= 0:
        return None
    return usec / 2_000_000.0
