"""Power-aware scheduler vs FIFO and static rates, on simulated devices (issue 11, item 5).

Each scenario runs the same camera trace (same seeds: frame times, people per frame, engine
noise) under three policies (see sim_engine.py) and reports, per policy:

- utility / optimum: utility of the on-time rates achieved in each 1 s window over the MILP
  optimum on the true latencies at that time (steady state: windows from 5 s after a change);
- deadlines met: completions within the deadline the policy itself claims (the plan's
  min(task deadline, 2 / rate) for the scheduler; the task's deadline for the others);
- p99 frame-to-event latency per task, and for the scheduler its ratio to 2 frame periods of
  the planned rate (target <= 1);
- the longest queue (jobs waiting per resource; the scheduler's pending frames);
- re-plans: reason, delay after the change (device polled every 0.25 s) and planner time.

A PNG per scenario (rates and latency over time) goes to --out (default bench/results/).

Run: .venv/bin/python bench/bench_scheduler.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_engine import Simulation, Trace  # noqa: E402
from sim_world import Change, Scenario, World, segments  # noqa: E402

from edge_agent.device.profiles import load_profiles  # noqa: E402
from edge_agent.scheduler.latency_table import load_latency_tables  # noqa: E402
from edge_agent.scheduler.tasks import TaskSpec, default_tasks  # noqa: E402

POLICIES = ("scheduler", "static", "fifo")
SETTLE_S = 5.0

SCENARIOS = (
    Scenario("nano_maxn_to_5w", "Jetson Nano, 2 cameras at 15 fps: MAXN -> 5W at 30 s",
             "nano", "MAXN", 2, 15.0, 60.0, (Change(30.0, mode="5W"),)),
    Scenario("orin_nx_25w_to_10w", "Orin NX, 2 cameras at 30 fps: 25W -> 10W at 30 s",
             "orin_nx", "25W", 2, 30.0, 60.0, (Change(30.0, mode="10W"),)),
    Scenario("agx_orin_throttle", "AGX Orin MAXN, 4 cameras at 30 fps: GPU clock to 60 % at 30 s",
             "agx_orin", "MAXN", 4, 30.0, 60.0, (Change(30.0, clock_factor=0.6),)),
    Scenario("camera_added", "Xavier NX 20 W, 2 -> 3 cameras at 15 fps at 30 s",
             "xavier_nx", "MODE_20W_6CORE", 2, 15.0, 60.0, (Change(30.0, cameras=3),)),
    Scenario("orin_nano_8_cameras", "Orin Nano 15W, 8 cameras at 15 fps",
             "orin_nano", "15W", 8, 15.0, 60.0),
)


def window_utility(spec: TaskSpec, quality: float, rate_hz: float) -> float:
    """Utility of an achieved rate; below the minimum it scales down to 0 (no cliff)."""
    if rate_hz >= spec.min_hz:
        return spec.utility(quality, rate_hz)
    return spec.weight * quality * 0.5 * rate_hz / spec.min_hz


def periods_p99(trace: Trace) -> Dict[str, float]:
    """p99 over completions of latency / (2 periods of the rate planned when it finished)."""
    ratios: Dict[str, List[float]] = {}
    for task, _model, _camera, frame_ts, done_s, _claimed in trace.completions:
        rate = next((rates.get(task, 0.0) for t, _r, _m, rates, _mo in reversed(trace.plans)
                     if t <= done_s), 0.0)
        if rate > 0:
            ratios.setdefault(task, []).append((done_s - frame_ts) * rate / 2.0)
    return {task: round(sorted(v)[int(0.99 * (len(v) - 1))], 3) for task, v in ratios.items()}


def analyse(world: World, trace: Trace, tasks: List[TaskSpec]) -> Dict[str, object]:
    scenario = world.scenario
    specs = {t.name: t for t in tasks}
    quality = {v.model: v.quality for t in tasks for v in t.variants}
    seconds = int(scenario.duration_s)
    on_time: Dict[Tuple[int, str], List[float]] = {}
    latencies: Dict[str, List[float]] = {t.name: [] for t in tasks}
    met = total = 0
    for task, model, _camera, frame_ts, done_s, claimed in trace.completions:
        latency = done_s - frame_ts
        latencies[task].append(latency)
        total += 1
        if latency <= claimed + 1e-9:
            met += 1
        if latency <= specs[task].deadline_s:
            on_time.setdefault((int(done_s), task), []).append(quality[model])
    optimum_at = {a: world.optimum(a + 0.01, tasks) for a, _ in segments(scenario)}
    ratios: List[float] = []
    series: Dict[str, List[float]] = {t.name: [0.0] * seconds for t in tasks}
    for second in range(seconds):
        cameras = world.state(second).cameras
        start = max(a for a, _ in segments(scenario) if a <= second)
        utility = 0.0
        for spec in tasks:
            done = on_time.get((second, spec.name), [])
            rate = len(done) / cameras
            series[spec.name][second] = rate
            mean_q = statistics.fmean(done) if done else 1.0
            utility += window_utility(spec, mean_q, min(rate, spec.target_hz))
        best = optimum_at[start][0]
        if second >= start + SETTLE_S and best > 0:
            ratios.append(utility / best)
    p99 = {task: (sorted(v)[int(0.99 * (len(v) - 1))] if v else float("nan"))
           for task, v in latencies.items()}
    queue_max = max((max(q.values(), default=0) for _, q in trace.queues), default=0)
    return {
        "utility_ratio": statistics.fmean(ratios) if ratios else float("nan"),
        "deadlines_met": met / total if total else float("nan"),
        "p99_ms": {k: round(v * 1000, 1) for k, v in p99.items()},
        "queue_max": queue_max if not trace.overflow else f">={queue_max} (overflow)",
        "dropped": dict(trace.dropped),
        "p99_over_2_periods": periods_p99(trace) if trace.plans else {},
        "series": series,
        "latency_series": _latency_series(trace, seconds),
        "queue_series": [(t, max(q.values(), default=0)) for t, q in trace.queues],
    }


def _latency_series(trace: Trace, seconds: int) -> List[float]:
    """p99 frame-to-event latency of all tasks per 2 s window (s)."""
    buckets: Dict[int, List[float]] = {}
    for _task, _model, _camera, frame_ts, done_s, _claimed in trace.completions:
        buckets.setdefault(int(done_s) // 2, []).append(done_s - frame_ts)
    return [sorted(buckets[b])[int(0.99 * (len(buckets[b]) - 1))] if b in buckets
            else float("nan") for b in range(seconds // 2)]


def plot(scenario: Scenario, results: Dict[str, Dict[str, object]], plans: List[Tuple],
         out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    styles = {"scheduler": "-", "static": "--", "fifo": ":"}
    colours = {"semseg": "tab:blue", "peoplenet": "tab:orange", "reid": "tab:green"}
    for policy, result in results.items():
        for task, values in result["series"].items():  # type: ignore[union-attr]
            axes[0].plot(range(len(values)), values, styles[policy], color=colours[task],
                         label=f"{task} ({policy})")
        lat = result["latency_series"]
        axes[1].plot([2 * i + 1 for i in range(len(lat))], lat, styles[policy], color="k",
                     label=policy)
        queue = result["queue_series"]
        axes[2].plot([t for t, _ in queue], [q for _, q in queue], styles[policy], color="k",
                     label=policy)
    for t, _reason, _ms, rates, _models in plans:
        for task, rate in rates.items():
            axes[0].plot([t], [rate], "x", color=colours.get(task, "k"))
    for change in scenario.changes:
        for axis in axes:
            axis.axvline(change.at_s, color="red", alpha=0.4)
    axes[0].set_ylabel("on-time rate per camera (Hz)\n(x = planned)")
    axes[0].legend(fontsize=7, ncol=3)
    axes[1].set_ylabel("p99 frame-to-event (s)")
    axes[1].set_yscale("log")
    axes[1].legend(fontsize=8)
    axes[2].set_ylabel("longest queue (jobs)")
    axes[2].set_yscale("symlog")
    axes[2].set_ylim(bottom=0)
    axes[2].set_xlabel("time (s)")
    axes[2].legend(fontsize=8)
    fig.suptitle(scenario.title)
    fig.tight_layout()
    path = out / f"scheduler_{scenario.name}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--quick", action="store_true", help="20 s per scenario, no plots")
    parser.add_argument("--only", default="", help="run one scenario by name")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    profiles, tables = load_profiles(), load_latency_tables()
    summary: Dict[str, object] = {}
    for scenario in SCENARIOS:
        if args.only and scenario.name != args.only:
            continue
        if args.quick:
            scenario = Scenario(scenario.name, scenario.title, scenario.device, scenario.mode,
                                scenario.cameras, scenario.fps, 20.0,
                                tuple(Change(10.0, c.mode, c.clock_factor, c.cameras)
                                      for c in scenario.changes))
        profile = profiles[scenario.device]
        tasks = default_tasks(profile.semseg_variant)
        results: Dict[str, Dict[str, object]] = {}
        plans: List[Tuple] = []
        for policy in POLICIES:
            started = time.perf_counter()
            world = World(scenario, profile, tables[scenario.device])
            trace = Simulation(world, policy, tasks).run()
            results[policy] = analyse(world, trace, tasks)
            results[policy]["sim_s"] = round(time.perf_counter() - started, 1)
            if policy == "scheduler":
                plans = trace.plans
        print(f"\n## {scenario.title}")
        print("| policy | utility / optimum (steady) | deadlines met | p99 ms semseg / "
              "peoplenet / reid | longest queue | dropped |")
        print("|---|---|---|---|---|---|")
        for policy, r in results.items():
            p99 = r["p99_ms"]
            print(f"| {policy} | {r['utility_ratio']:.3f} | {r['deadlines_met']:.2%} | "
                  f"{p99.get('semseg')} / {p99.get('peoplenet')} / {p99.get('reid')} | "  # type: ignore[union-attr]
                  f"{r['queue_max']} | {r['dropped']} |")
        print(f"- scheduler p99 latency / 2 periods of the planned rate: "
              f"{results['scheduler']['p99_over_2_periods']}")
        for t, reason, plan_ms, rates, models in plans:
            pretty = ", ".join(f"{k} {v:.1f} Hz ({models[k].replace('peoplesemsegnet_', '')})"
                               for k, v in sorted(rates.items()))
            print(f"- plan at {t:5.2f} s ({plan_ms:.1f} ms): {reason} -> {pretty}")
        if not args.quick:
            print(f"- plot: {plot(scenario, results, plans, args.out)}")
        summary[scenario.name] = {
            policy: {k: v for k, v in r.items() if not k.endswith("series")}
            for policy, r in results.items()}
        summary[scenario.name]["plans"] = [  # type: ignore[index]
            {"t": t, "reason": reason, "plan_ms": round(ms, 2), "rates": rates}
            for t, reason, ms, rates, _ in plans]
    (args.out / "scheduler_summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
