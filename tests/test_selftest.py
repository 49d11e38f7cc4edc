"""`edge-agent selftest`: the judgements (pure), the TensorRT part on FAKE libraries, and a
whole run on this machine's CPU path with a real mosquitto and a real notify socket."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from fake_tensorrt_lib import FakeState, install

from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.cli.main import main
from edge_agent.device.identity import DeviceIdentity
from edge_agent.device.nvpmodel import ModeTable, PowerMode
from edge_agent.device.profiles import load_profiles
from edge_agent.models.standin import write_standin
from edge_agent.models.store import load_model_record
from edge_agent.selftest.engines import engine_lines
from edge_agent.selftest.measure import (
    allocation_line,
    growth_pct_per_min,
    latency_line,
    memory_line,
)
from edge_agent.selftest.notify import judge
from edge_agent.selftest.power import pick_other_mode
from edge_agent.selftest.report import Line, render

MIB = 1 << 20


def test_memory_growth_is_judged_after_warm_up_and_only_on_long_runs() -> None:
    flat = [(float(t), 300 * MIB + (50 * MIB if t < 10 else 0)) for t in range(70)]
    growth, span_s = growth_pct_per_min(flat, warmup_s=20)
    assert growth == pytest.approx(0.0) and span_s == 49
    assert memory_line(flat, 20).verdict == "PASS"  # growth during warm-up does not count
    leaking = [(float(t), int(300 * MIB * (1 + 0.02 * t / 60))) for t in range(70)]
    line = memory_line(leaking, 20)
    assert line.verdict == "FAIL" and "+1.9" in line.detail  # ~2 %/min of the mean
    assert memory_line(flat[:15], 5).verdict == "SKIP"


def test_latency_allocation_and_report_lines() -> None:
    assert latency_line("semseg", 90.0, 10.0, "mean").verdict == "PASS"
    assert latency_line("semseg", 120.0, 10.0, "mean").verdict == "FAIL"
    assert latency_line("semseg", 120.0, 10.0, "mean", judged=False).verdict == "INFO"
    assert latency_line("semseg", None, 10.0, "mean").verdict == "SKIP"
    assert allocation_line("m", 0, 20).verdict == "PASS"
    assert allocation_line("m", 40, 20).verdict == "FAIL"
    assert allocation_line("m", None, 20).verdict == "SKIP"
    text = render(["device x"], [Line("a|b", "PASS", "ok"), Line("c", "FAIL", "x | y")])
    assert text.startswith("## edge-agent selftest: FAIL (1 pass, 1 fail, 0 skipped)")
    assert "| c | FAIL | x \\| y |" in text and "- device x" in text


def test_notify_judgement() -> None:
    good = [(0.0, ["READY=1", "STATUS=ok"]), (1.0, ["WATCHDOG=1"]), (2.0, ["WATCHDOG=1"]),
            (2.5, ["STOPPING=1"])]
    assert [x.verdict for x in judge(good, 0, 4.0, "")] == ["PASS", "PASS"]
    late = good[:2] + [(9.0, ["WATCHDOG=1"])] + good[3:]
    assert judge(late, 0, 4.0, "")[1].verdict == "FAIL"
    no_ready = [m for m in good if "READY=1" not in m[1]]
    assert judge(no_ready, 0, 4.0, "boom")[0].verdict == "FAIL"
    assert judge(good, 69, 4.0, "boom")[0].verdict == "FAIL"


def test_power_mode_change_picks_a_mode_with_another_rate() -> None:
    profile = load_profiles()["agx_orin"]
    table = ModeTable({0: PowerMode(0, "MAXN"), 1: PowerMode(1, "MODE_15W"),
                       2: PowerMode(2, "MODE_30W")}, default_id=2)
    other = pick_other_mode(table, profile, "MODE_30W")
    assert other is not None and other.name != "MODE_30W"
    assert profile.semseg_rate_for(other.name) != profile.semseg_rate_for("MODE_30W")


def test_engine_section_on_fake_tensorrt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    from edge_agent.inference.tensorrt_api import TensorRtToolkit

    install(monkeypatch, FakeState(simulated_numpy="1.24.4"))
    toolkit = TensorRtToolkit(child_entry="fake_tensorrt_lib:build_in_child")
    write_standin("peoplenet", tmp_path / "models")
    records = [load_model_record(tmp_path / "models", "peoplenet")]
    identity = DeviceIdentity(kind="agx_orin", module="p3701-0005", tensorrt="8.5.2.2")
    progress: List[str] = []
    lines = engine_lines(identity, load_profiles()["agx_orin"], "MODE_30W", records, toolkit,
                         tmp_path / "engines", progress.append, "peoplesemsegnet_vanilla_unet")
    by_name = {line.name: line for line in lines}
    engine = by_name["engine peoplenet"]
    assert engine.verdict == "PASS" and "DLA core 0: 1 layer(s) on the DLA" in engine.detail
    assert "batch 2..2" in engine.detail and "built in" in engine.detail
    assert by_name["pinned allocations peoplenet"].verdict == "PASS"
    assert by_name["latency peoplenet (engine)"].verdict == "INFO"  # no profile figure
    again = engine_lines(identity, load_profiles()["agx_orin"], "MODE_30W", records, toolkit,
                         tmp_path / "engines", progress.append, "x")
    assert "reused from the cache" in again[0].detail


@pytest.mark.slow
def test_selftest_passes_on_the_cpu_path(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 640, 360, 15.0, 4.0)
    code = main(["selftest", "--workdir", str(tmp_path / "w"), "--clip", str(clip),
                 "--duration-s", "8", "--notify-s", "6"])
    report = capsys.readouterr().out
    assert code == 0, report
    assert report.startswith("## edge-agent selftest: PASS")
    for row in ("| agent run | PASS |", "| backends | PASS |", "| systemd notify | PASS |",
                "| watchdog | PASS |", "| memory growth | SKIP |", "| engines | SKIP |",
                "| power mode | SKIP | not a Jetson"):
        assert row in report, row
    saved = (tmp_path / "w" / "selftest-report.md").read_text(encoding="utf-8")
    assert saved.strip() == report.strip()
