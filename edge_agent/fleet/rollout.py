"""Rollouts in waves, after AWS IoT Jobs: a canary first, then waves at a rate per minute;
abort when the failure ratio passes a threshold or a device times out, and roll back every
device where the change was applied.

Wave planning is pure (`plan_waves`); `Rollout` drives a `FleetClient`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.envelope import CommandReply

Rollback = Callable[[CommandReply], Optional[Tuple[str, Dict[str, Any]]]]
"""From a device's done reply, the command that undoes it (None: nothing to undo)."""


def plan_waves(devices: Sequence[str], canary_pct: float, wave_pct: float) -> List[List[str]]:
    """[canary, wave, wave, ...]: the canary is ceil(canary_pct %) of the devices (at least
    one), each later wave ceil(wave_pct %)."""
    if not 0 < canary_pct <= 100 or not 0 < wave_pct <= 100:
        raise ValueError("canary and wave percentages must lie in (0, 100]")
    remaining = list(devices)
    if not remaining:
        return []
    canary = max(1, math.ceil(len(remaining) * canary_pct / 100.0))
    size = max(1, math.ceil(len(remaining) * wave_pct / 100.0))
    waves = [remaining[:canary]]
    rest = remaining[canary:]
    waves.extend(rest[start : start + size] for start in range(0, len(rest), size))
    return waves


def revert_config_rollback(reply: CommandReply) -> Optional[Tuple[str, Dict[str, Any]]]:
    """Undo a set_config/patch_config: revert to the revision it replaced."""
    previous = reply.result.get("previous")
    if not isinstance(previous, str) or previous == reply.result.get("revision"):
        return None
    return "revert_config", {"revision": previous}


@dataclass
class RolloutReport:
    """What happened, per device."""

    done: List[str] = field(default_factory=list)
    failed: Dict[str, str] = field(default_factory=dict)
    timed_out: List[str] = field(default_factory=list)
    rolled_back: List[str] = field(default_factory=list)
    rollback_failed: Dict[str, str] = field(default_factory=dict)
    not_attempted: List[str] = field(default_factory=list)
    aborted: bool = False
    reason: str = ""
    waves: int = 0
    duration_s: float = 0.0


@dataclass(frozen=True)
class RolloutPolicy:
    """Pacing and abort rules."""

    canary_pct: float = 1.0
    wave_pct: float = 20.0
    rate_per_min: float = 0.0
    """Devices started per minute (0 = each wave as soon as the previous one finished)."""
    max_failure_ratio: float = 0.0
    """Abort when failed / attempted exceeds this (0: the first failure aborts)."""
    device_timeout_s: float = 120.0
    expires_in_s: float = 600.0


class Rollout:
    """One command, wave by wave."""

    def __init__(
        self,
        client: FleetClient,
        command: str,
        args: Dict[str, Any],
        policy: RolloutPolicy,
        rollback: Optional[Rollback] = None,
        log: Callable[[str], None] = lambda line: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._command = command
        self._args = args
        self._policy = policy
        self._rollback = rollback
        self._log = log
        self._sleep = sleep

    def run(self, devices: Sequence[str]) -> RolloutReport:
        """Roll out to ``devices``; returns the report (never raises for device failures)."""
        started = time.monotonic()
        report = RolloutReport()
        waves = plan_waves(devices, self._policy.canary_pct, self._policy.wave_pct)
        applied: Dict[str, CommandReply] = {}
        for number, wave in enumerate(waves):
            wave_started = time.monotonic()
            report.waves = number + 1
            name = "canary" if number == 0 else f"wave {number}"
            self._log(f"{name}: {len(wave)} device(s)")
            tracker = self._client.send(self._command, self._args, devices=wave,
                                        expires_in_s=self._policy.expires_in_s)
            missing = self._client.wait(tracker, self._policy.device_timeout_s)
            for device_id in wave:
                reply = tracker.final(device_id)
                if reply is None:
                    report.timed_out.append(device_id)
                elif reply.state == "done":
                    report.done.append(device_id)
                    applied[device_id] = reply
                else:
                    report.failed[device_id] = f"{reply.code}: {reply.reason}"
            self._client.forget(tracker)
            attempted = len(report.done) + len(report.failed) + len(report.timed_out)
            failures = len(report.failed) + len(report.timed_out)
            ratio = failures / attempted if attempted else 0.0
            self._log(f"{name}: {len(wave) - len(missing)} replied, failure ratio {ratio:.2f}")
            if missing or ratio > self._policy.max_failure_ratio:
                report.aborted = True
                report.reason = (
                    f"{len(missing)} device(s) timed out after {self._policy.device_timeout_s:g} s"
                    if missing
                    else f"failure ratio {ratio:.2f} > {self._policy.max_failure_ratio:.2f}"
                )
                report.not_attempted = [d for later in waves[number + 1 :] for d in later]
                self._roll_back(applied, report)
                break
            self._pace(len(wave), wave_started, is_last=number == len(waves) - 1)
        report.duration_s = time.monotonic() - started
        return report

    def _pace(self, wave_size: int, wave_started: float, is_last: bool) -> None:
        if is_last or self._policy.rate_per_min <= 0:
            return
        wanted_s = 60.0 * wave_size / self._policy.rate_per_min
        left = wanted_s - (time.monotonic() - wave_started)
        if left > 0:
            self._sleep(left)

    def _roll_back(self, applied: Dict[str, CommandReply], report: RolloutReport) -> None:
        if self._rollback is None or not applied:
            return
        by_command: Dict[Tuple[str, str], List[str]] = {}
        undo: Dict[Tuple[str, str], Tuple[str, Dict[str, Any]]] = {}
        for device_id, reply in applied.items():
            action = self._rollback(reply)
            if action is None:
                continue
            key = (action[0], repr(sorted(action[1].items())))
            by_command.setdefault(key, []).append(device_id)
            undo[key] = action
        for key, group in by_command.items():
            command, args = undo[key]
            self._log(f"rolling back {len(group)} device(s) with {command}")
            tracker = self._client.send(command, args, devices=group,
                                        expires_in_s=self._policy.expires_in_s)
            self._client.wait(tracker, self._policy.device_timeout_s)
            for device_id in group:
                final = tracker.final(device_id)
                if final is not None and final.state == "done":
                    report.rolled_back.append(device_id)
                else:
                    report.rollback_failed[device_id] = (
                        "no reply" if final is None else f"{final.code}: {final.reason}"
                    )
            self._client.forget(tracker)
