"""Selftest results and the Markdown report a user pastes into an issue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

PASS, FAIL, SKIP, INFO = "PASS", "FAIL", "SKIP", "INFO"
WARMUP_RUNS = 3  # inferences before anything is measured (first-use allocations)


@dataclass(frozen=True)
class Line:
    """One check: a short name, a verdict and the figures behind it."""

    name: str
    verdict: str
    detail: str


def verdict_of(lines: Sequence[Line]) -> str:
    """FAIL when any check failed, else PASS."""
    return FAIL if any(line.verdict == FAIL for line in lines) else PASS


def render(header: Sequence[str], lines: Sequence[Line]) -> str:
    """The report: a title with the overall verdict, the environment, then one row per check."""
    counts = {v: sum(1 for line in lines if line.verdict == v) for v in (PASS, FAIL, SKIP)}
    out: List[str] = [
        f"## edge-agent selftest: {verdict_of(lines)} ({counts[PASS]} pass, {counts[FAIL]} "
        f"fail, {counts[SKIP]} skipped)",
        "",
    ]
    out += [f"- {item}" for item in header]
    out += ["", "| check | result | detail |", "|---|---|---|"]
    for line in lines:
        detail = line.detail.replace("|", "\\|").replace("\n", " ")
        out.append(f"| {line.name} | {line.verdict} | {detail} |")
    return "\n".join(out) + "\n"
