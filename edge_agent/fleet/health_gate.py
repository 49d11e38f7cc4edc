"""Apply a configuration and keep it only if the agent is healthy soon after.

Why: a configuration can validate and still fail at run time (a camera URL that does not
answer, a zone that starves a model); the device must undo it by itself, because the operator
may have just lost the way to reach it.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional

from pydantic import ValidationError

from edge_agent.errors import EdgeAgentError
from edge_agent.fleet.errors import CommandFailed, validation_reason
from edge_agent.fleet.target import CommandTarget, HealthReport, Progress


def _reason(err: EdgeAgentError) -> str:
    problems = getattr(err, "problems", None)  # ConfigInvalid names each bad field
    if problems:
        return "; ".join(f"{p.path}: {p.message}" for p in problems)
    return err.problem


def apply_checked(
    target: CommandTarget,
    config: Dict[str, Any],
    health_timeout_s: float,
    progress: Progress,
    poll_s: float = 0.2,
    settle_s: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> List[str]:
    """Apply ``config``; wait up to ``health_timeout_s`` for health; roll back if it never
    comes. Returns the sections changed; raises CommandFailed (invalid_args / rolled_back)."""
    previous = target.current_config()
    try:
        changed = target.apply_config(config)
    except EdgeAgentError as err:
        raise CommandFailed(
            "invalid_args", f"config refused, nothing changed: {_reason(err)}"
        ) from None
    except ValidationError as err:
        reason = validation_reason(err, "config")
        raise CommandFailed(
            "invalid_args", f"config refused, nothing changed: {reason}"
        ) from None
    progress(50.0, f"applied ({', '.join(changed) or 'no live change'}); checking health")
    report = _wait_healthy(target, health_timeout_s, poll_s, settle_s, clock, sleep)
    if report is None:
        return changed
    try:
        target.apply_config(previous)
    except (EdgeAgentError, ValueError) as err:
        raise CommandFailed(
            "error", f"not healthy ({report.reason}) and the rollback failed too: {err}"
        ) from None
    raise CommandFailed(
        "rolled_back",
        f"not healthy within {health_timeout_s:g} s ({report.reason}); previous config restored",
    )


def _wait_healthy(
    target: CommandTarget,
    timeout_s: float,
    poll_s: float,
    settle_s: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Optional[HealthReport]:
    """None once healthy (after ``settle_s``), else the last unhealthy report."""
    start = clock()
    deadline = start + timeout_s
    report = HealthReport(False, "no health check ran")
    while True:
        report = target.health()
        if report.healthy and clock() - start >= settle_s:
            return None
        if clock() >= deadline:
            return report
        sleep(min(poll_s, max(0.0, deadline - clock())))


