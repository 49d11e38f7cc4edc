"""Telling a failing disk from a damaged file, for every SQLite and OS error the outbox meets.

Why it matters: a damaged file is moved aside (after its readable rows are salvaged), but a
full, read-only or vanished file system must never be: the file is healthy and its messages
are sent once space returns. Python maps SQLite's result codes onto exception classes
(``SQLITE_CORRUPT`` and ``SQLITE_NOTADB`` raise plain ``sqlite3.DatabaseError``; ``SQLITE_FULL``,
``SQLITE_IOERR``, ``SQLITE_READONLY`` and ``SQLITE_CANTOPEN`` raise its subclass
``OperationalError``), and Python 3.11+ also carries the code itself (``sqlite_errorcode``).
"""

from __future__ import annotations

import errno
import sqlite3

_MALFORMED_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB (primary codes)
_DISK_FULL_CODE = 13  # SQLITE_FULL

STORAGE_ERRNOS = frozenset(
    code
    for code in (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EIO,
        errno.EFBIG,
        errno.ENODEV,
        errno.ENXIO,
        errno.ESTALE,
        errno.ENOTCONN,
    )
)
"""errno values of a file system that is full, read-only or failing: retry, never give up."""


class MalformedOutbox(sqlite3.DatabaseError):
    """Our own verdict that the file is damaged: quick_check not 'ok', or foreign tables."""


def is_malformed(exc: BaseException) -> bool:
    """True only when SQLite (or our integrity check) says the file itself is damaged."""
    if isinstance(exc, MalformedOutbox):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in _MALFORMED_CODES
    return type(exc) is sqlite3.DatabaseError


def is_storage_errno(exc: OSError) -> bool:
    """True for an OSError that a full, read-only or failing file system causes."""
    return exc.errno in STORAGE_ERRNOS


def is_disk_full(exc: sqlite3.Error) -> bool:
    """SQLITE_FULL: retry at every commit (an I/O error instead makes the outbox reopen)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) == _DISK_FULL_CODE
    return "disk is full" in str(exc)
