"""The one exception a command handler raises to end in a failed reply."""

from __future__ import annotations


class CommandFailed(Exception):
    """A command could not run; ``code`` is the reply's failure class, ``reason`` names the
    problem (and the failing field, where there is one)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
