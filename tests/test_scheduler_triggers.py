"""Re-plan triggers with hysteresis, and the scheduler re-planning on a (FAKE) device tree."""

from __future__ import annotations

from pathlib import Path

from jetson_tree import agx_orin_tree, orin_gpu, write

from edge_agent.device.profiles import load_profiles
from edge_agent.scheduler.core import Scheduler
from edge_agent.scheduler.latency_table import load_latency_tables
from edge_agent.scheduler.signals import DeviceReading, DeviceSignals
from edge_agent.scheduler.tasks import default_tasks
from edge_agent.scheduler.triggers import ReplanMonitor, Snapshot

BASE = Snapshot("MODE_30W", 612.0, False, frozenset({"semseg"}), frozenset({"cam0"}),
                {"semseg": 1.0})


def monitor() -> ReplanMonitor:
    watch = ReplanMonitor(hold_s=1.0, min_interval_s=2.0)
    watch.planned(BASE, now_s=0.0)
    return watch


def test_mode_and_camera_changes_are_immediate() -> None:
    watch = monitor()
    assert watch.check(BASE, 0.1) is None
    changed = Snapshot("MODE_15W", 612.0, False, BASE.tasks, BASE.cameras, BASE.ratios)
    assert watch.check(changed, 0.1) == "power mode MODE_30W -> MODE_15W"
    added = Snapshot("MODE_30W", 612.0, False, BASE.tasks, frozenset({"cam0", "cam1"}),
                     BASE.ratios)
    assert watch.check(added, 0.1) == "camera added: cam1"


def test_clock_drop_must_persist_and_respect_the_interval() -> None:
    watch = monitor()
    low = Snapshot("MODE_30W", 367.0, False, BASE.tasks, BASE.cameras, BASE.ratios)
    assert watch.check(low, 1.5) is None   # just seen
    assert watch.check(low, 2.4) is None   # held 0.9 s
    assert watch.check(low, 2.6) == "GPU clock 612 -> 367 MHz"


def test_flicker_and_small_changes_do_not_replan() -> None:
    watch = monitor()
    low = Snapshot("MODE_30W", 367.0, False, BASE.tasks, BASE.cameras, BASE.ratios)
    small = Snapshot("MODE_30W", 580.0, False, BASE.tasks, BASE.cameras, BASE.ratios)
    for step in range(50):  # alternates every 0.2 s: never held for 1 s
        now = 3.0 + 0.2 * step
        assert watch.check(low if step % 2 else BASE, now) is None
        assert watch.check(small, now + 0.1) is None  # within the 10 % band


def test_drift_and_throttle_are_held_triggers() -> None:
    watch = monitor()
    drifted = Snapshot("MODE_30W", 612.0, True, BASE.tasks, BASE.cameras, {"semseg": 1.4})
    assert watch.check(drifted, 3.0) is None
    reason = watch.check(drifted, 4.1)
    assert reason is not None and "throttling started" in reason and "semseg x1.40" in reason
    watch.planned(drifted, 4.1)  # the new baseline: the same readings no longer trigger
    assert watch.check(drifted, 9.0) is None


def test_scheduler_replans_on_a_power_mode_switch_in_the_tree(tmp_path: Path) -> None:
    root = agx_orin_tree(tmp_path)  # pmode 2 = MODE_30W (FAKE sysfs/nvpmodel boundary)
    signals = DeviceSignals(root)
    reading = signals.read()
    assert reading.mode == "MODE_30W" and reading.gpu_mhz is not None
    profile = load_profiles()["agx_orin"]
    scheduler = Scheduler(profile, load_latency_tables()["agx_orin"], reading,
                          default_tasks(profile.semseg_variant), ["cam0", "cam1", "cam2"],
                          now_s=0.0)
    before = scheduler.plan
    assert scheduler.update(signals.read(), 0.25) is None
    write(root, "/var/lib/nvpmodel/status", "pmode:0001 fmode:quiet\n")  # operator: MODE_15W
    after = scheduler.update(signals.read(), 0.5)
    assert after is not None and after.reason == "power mode MODE_30W -> MODE_15W"
    assert after.mode == "MODE_15W" and after.utility < before.utility
    assert after.extras["plan_ms"] < 1000.0
    assert scheduler.policy.plan is after


def test_scheduler_replans_when_the_gpu_throttles(tmp_path: Path) -> None:
    root = agx_orin_tree(tmp_path, status="pmode:0000\n")  # MAXN
    orin_gpu(root, load_permille=900, cur_hz=1300000000)
    signals = DeviceSignals(root)
    profile = load_profiles()["agx_orin"]
    scheduler = Scheduler(profile, load_latency_tables()["agx_orin"], signals.read(),
                          default_tasks(profile.semseg_variant), ["cam0"], now_s=0.0)
    orin_gpu(root, load_permille=20, cur_hz=306000000)  # idle downclock: not throttling
    assert scheduler.update(signals.read(), 3.0) is None
    assert scheduler.update(signals.read(), 4.5) is None
    orin_gpu(root, load_permille=950, cur_hz=780000000)  # 60 % clock under load
    assert scheduler.update(signals.read(), 5.0) is None
    replanned = scheduler.update(signals.read(), 6.1)
    assert replanned is not None and "GPU clock 1300 -> 780 MHz" in replanned.reason
    assert scheduler.latency.seed_ms("peoplenet", "gpu", 1) is not None


def test_unknown_mode_is_planned_from_measurements_and_replanned_once_measured() -> None:
    profile = load_profiles()["orin_nano"]
    scheduler = Scheduler(profile, load_latency_tables()["orin_nano"],
                          DeviceReading("MODE_NEW"), default_tasks("shuffleseg"), ["cam0"], 0.0)
    assert scheduler.plan.notes[0].startswith("power mode 'MODE_NEW' not in the table")
    for task in scheduler.plan.tasks.values():
        for _ in range(3):
            scheduler.policy.observe(task.name, task.resource, 1, 10.0)
    assert scheduler.update(DeviceReading("MODE_NEW"), 3.0) is None  # held 1 s first
    replanned = scheduler.update(DeviceReading("MODE_NEW"), 4.1)
    assert replanned is not None and "first measurements" in replanned.reason
    assert not any(t.probe for t in replanned.tasks.values())
