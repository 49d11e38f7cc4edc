"""Structured journal records: CAMERA=, ENGINE=, EVENT_ID= fields next to the message.

Under systemd, stderr already reaches the journal as plain lines; with systemd-python
installed the agent sends native records instead, so `journalctl -u edge-agent CAMERA=lobby`
finds one camera's history. Code attaches the fields with the standard `extra=` mechanism,
e.g. `logger.warning("...", extra={"camera": camera_id})`; unknown extras are ignored.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Callable, Dict, Mapping, Optional

# LogRecord attribute -> journal field name (journal fields are upper case).
FIELD_NAMES: Dict[str, str] = {"camera": "CAMERA", "engine": "ENGINE", "event_id": "EVENT_ID"}

JournalSend = Callable[..., None]


def _priority(levelno: int) -> int:
    """syslog priority for a logging level (journal PRIORITY=)."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


def journal_fields(record: logging.LogRecord) -> Dict[str, str]:
    """The journal fields of one record besides MESSAGE."""
    fields = {
        "PRIORITY": str(_priority(record.levelno)),
        "LOGGER": record.name,
        "THREAD_NAME": record.threadName or "",
        "CODE_FILE": record.pathname,
        "CODE_LINE": str(record.lineno),
        "CODE_FUNC": record.funcName,
        "SYSLOG_IDENTIFIER": "edge-agent",
    }
    for attribute, name in FIELD_NAMES.items():
        value = getattr(record, attribute, None)
        if value is not None and value != "":
            fields[name] = str(value)
    return fields


class StructuredJournalHandler(logging.Handler):
    """Sends each record to journald through `send(MESSAGE, **fields)` (systemd.journal.send)."""

    def __init__(self, send: JournalSend, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        """Format and send; a journald failure is reported by logging's handleError."""
        try:
            self._send(self.format(record), **journal_fields(record))
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


def systemd_journal_send() -> Optional[JournalSend]:
    """systemd.journal.send when systemd-python is installed, else None."""
    try:
        module = importlib.import_module("systemd.journal")
    except ImportError:
        return None
    send = getattr(module, "send", None)
    return send if callable(send) else None


def use_journal_if_attached(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Route root logging to native journal records when stderr goes to the journal.

    JOURNAL_STREAM is set by systemd when stdout/stderr are connected to journald; only then,
    and only with systemd-python present, is the stream handler replaced. True when switched.
    """
    env = os.environ if environ is None else environ
    if not env.get("JOURNAL_STREAM"):
        return False
    send = systemd_journal_send()
    if send is None:
        return False
    handler = StructuredJournalHandler(send)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    return True
