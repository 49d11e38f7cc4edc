"""`edge-agent plan --device PROFILE --mode NAME [--cameras N]`: print a plan without running."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict

from edge_agent.errors import ExitCode


def register(subparsers: Any) -> None:
    """Add the `plan` sub-command."""
    parser = subparsers.add_parser(
        "plan", help="print the schedule (rates, placement, variant) a device profile would run")
    parser.add_argument("--device", required=True, help="device profile, e.g. agx_orin")
    parser.add_argument("--mode", required=True, help="power mode name, e.g. MODE_30W")
    parser.add_argument("--cameras", type=int, default=1, help="number of cameras (default 1)")
    parser.add_argument("--people", type=float, default=3.0,
                        help="people per frame, drives ReID cost (default 3)")
    parser.add_argument("--no-tracking", action="store_true", help="semseg only")
    parser.add_argument("--target", type=float, default=0.8,
                        help="utilisation target per resource, 0-1 (default 0.8)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from edge_agent.device.profiles import load_profiles
    from edge_agent.errors import ConfigError
    from edge_agent.scheduler.device_plan import plan_device, workload_for
    from edge_agent.scheduler.latency_table import load_latency_tables

    if args.cameras < 1:
        raise ConfigError(f"--cameras must be at least 1, got {args.cameras}", "pass --cameras 1")
    if not 0 < args.target <= 1:
        raise ConfigError(f"--target must be in (0, 1], got {args.target}", "pass --target 0.8")
    if args.people < 0:
        raise ConfigError(f"--people must be >= 0, got {args.people}", "pass --people 3")
    profiles = load_profiles()
    profile = profiles.get(args.device)
    if profile is None:
        raise ConfigError(f"unknown device profile {args.device!r}",
                          f"use one of: {', '.join(sorted(profiles))}")
    table = load_latency_tables().get(args.device)
    workload = workload_for(profile, args.cameras, args.people, not args.no_tracking)
    plan = plan_device(profile, table, args.mode, workload, target=args.target)
    best = sum(t.weight * max(v.quality for v in t.variants) for t in workload.tasks)
    if args.json:
        payload: Dict[str, object] = {
            "device": args.device, "mode": args.mode, "cameras": args.cameras,
            "utility": round(plan.utility, 4), "utility_max": round(best, 4),
            "shed": list(plan.shed), "notes": list(plan.notes),
            "utilisation": {k: round(v, 4) for k, v in plan.utilisation.items()},
            "tasks": {name: {"model": t.model, "resource": t.resource, "batch": t.batch,
                             "rate_hz": round(t.rate_hz, 3), "deadline_s": round(t.deadline_s, 3),
                             "load": round(t.load, 4), "probe": t.probe}
                      for name, t in plan.tasks.items()},
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return ExitCode.OK
    out = [f"plan for {args.device} in {args.mode}: {args.cameras} camera(s), "
           f"{args.people:g} people/frame, utilisation target {args.target:.0%}",
           f"{'task':<10} {'model':<30} {'resource':<8} {'batch':>5} {'rate_hz':>8} "
           f"{'deadline_s':>10} {'load':>6}"]
    for name, task in sorted(plan.tasks.items()):
        out.append(f"{name:<10} {task.model:<30} {task.resource:<8} {task.batch:>5} "
                   f"{task.rate_hz:>8.2f} {task.deadline_s:>10.3f} {task.load:>6.1%}"
                   + ("  (probe)" if task.probe else ""))
    out.append("utilisation: " + ", ".join(f"{k} {v:.0%}" for k, v in
                                           sorted(plan.utilisation.items())))
    out.append(f"utility {plan.utility:.2f} of {best:.2f} possible")
    out.append("shed: " + (", ".join(plan.shed) if plan.shed else "none"))
    out.extend(f"note: {note}" for note in plan.notes)
    if table is not None and table.mode(args.mode) is None:
        out.append(f"note: modes in engines/latency/{args.device}.toml: "
                   + ", ".join(table.modes))
    sys.stdout.write("\n".join(out) + "\n")
    return ExitCode.OK
