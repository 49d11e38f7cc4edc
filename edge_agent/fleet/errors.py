"""The one exception a command handler raises to end in a failed reply."""

from __future__ import annotations

from pydantic import ValidationError


class CommandFailed(Exception):
    """A command could not run; ``code`` is the reply's failure class, ``reason`` names the
    problem (and the failing field, where there is one)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def validation_reason(err: ValidationError, where: str) -> str:
    """'args.level: Input should be ...; ...' from a pydantic error, bounded in length."""
    parts = []
    for item in err.errors()[:5]:
        location = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}{'.' if location else ''}{location}: {item['msg']}")
    return "; ".join(parts)[:1000]
