"""Fleet at scale: N simulated devices (default 1,000) on one local mosquitto.

Measures discovery time (retained status + cards), inventory time (rows, sort, render),
a rollout to every device in waves (canary 1 %, then 20 % per wave) and a fleet-wide ping:
time until every device replied, commands lost (must be 0), and the resident memory of the
broker, the simulator process and the tool. Rounds are repeated; medians and spread printed.

    .venv/bin/python bench/bench_fleet.py --devices 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from edge_agent.demo.local_broker import free_port
from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.inventory import render, rows, sort_rows
from edge_agent.fleet.paho_link import LinkOptions
from edge_agent.fleet.rollout import Rollout, RolloutPolicy, revert_config_rollback


def rss_mb(pid: int) -> float:
    """VmRSS of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def start_broker(workdir: Path, port: int) -> "subprocess.Popen[bytes]":
    config = workdir / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence false",
             "max_queued_messages 100000", "max_connections -1"]
    if os.geteuid() == 0:
        lines.append("user root")
    config.write_text("\n".join(lines) + "\n")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    return subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_listening(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"mosquitto did not listen on {port}") from None
            time.sleep(0.05)


def start_simulator(workdir: Path, port: int, devices: int,
                    per_connection: int) -> "subprocess.Popen[str]":
    process = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.fleet.cli", "--broker", f"127.0.0.1:{port}",
         "simulate", "--devices", str(devices), "--per-connection", str(per_connection),
         "--telemetry-interval-s", "0", "--workdir", str(workdir / "sim")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "N simulated device(s) online in X s ..."
    if "online" not in line:
        raise SystemExit(f"simulator did not start: {line}")
    print(f"simulator: {line.strip()}", flush=True)
    return process


def one_round(port: int, devices: int, number: int) -> Dict[str, float]:
    figures: Dict[str, float] = {}
    started = time.monotonic()
    client = FleetClient(LinkOptions(port=port, client_id=f"bench-tool-{number}",
                                     session_expiry_s=0)).start()
    try:
        found = client.wait_devices(expected=devices, timeout_s=120)
        figures["discovery_s"] = time.monotonic() - started
        figures["discovered"] = found
        started = time.monotonic()
        table = render(sort_rows(rows(client.devices()), "device"), 120, 1, 40)
        figures["inventory_s"] = time.monotonic() - started
        assert table[-1].endswith(f"{devices} device(s)"), table[-1]

        level = "DEBUG" if number % 2 == 0 else "INFO"
        policy = RolloutPolicy(canary_pct=1.0, wave_pct=20.0, device_timeout_s=120.0)
        rollout = Rollout(client, "patch_config", {"patch": {"logging": {"level": level}},
                                                   "health_timeout_s": 5.0},
                          policy, revert_config_rollback)
        report = rollout.run(sorted(client.devices()))
        figures["rollout_s"] = report.duration_s
        figures["rollout_waves"] = report.waves
        figures["rollout_lost"] = len(report.timed_out)
        figures["rollout_failed"] = len(report.failed)

        started = time.monotonic()
        tracker = client.send("ping", {}, everyone=True)
        missing = client.wait(tracker, 120)
        figures["broadcast_all_replied_s"] = time.monotonic() - started
        figures["broadcast_lost"] = len(missing)
        figures["tool_rss_mb"] = rss_mb(os.getpid())
    finally:
        client.stop()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--per-connection", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    port = free_port()
    broker = start_broker(workdir, port)
    wait_listening(port)
    broker_idle_mb = rss_mb(broker.pid)
    simulator = start_simulator(workdir, port, args.devices, args.per_connection)
    rounds: List[Dict[str, float]] = []
    try:
        for number in range(args.rounds):
            figures = one_round(port, args.devices, number)
            figures["broker_rss_mb"] = rss_mb(broker.pid)
            figures["simulator_rss_mb"] = rss_mb(simulator.pid)
            rounds.append(figures)
            print(f"round {number + 1}: " + ", ".join(f"{k}={v:.3g}" for k, v in figures.items()),
                  flush=True)
    finally:
        simulator.terminate()
        simulator.wait(30)
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{args.devices} devices, {args.per_connection} per connection, "
          f"{args.rounds} rounds (median [min - max]); broker idle {broker_idle_mb:.1f} MiB")
    summary = {}
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        summary[key] = {"median": statistics.median(values), "min": min(values),
                        "max": max(values)}
        print(f"  {key:26s} {statistics.median(values):10.3f}  [{min(values):.3f} - "
              f"{max(values):.3f}]")
    lost = sum(r["rollout_lost"] + r["broadcast_lost"] for r in rounds)
    print(f"  commands lost over all rounds: {lost:.0f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"devices": args.devices, "rounds": rounds,
                                         "summary": summary}, indent=2))
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
