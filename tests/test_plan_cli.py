"""`edge-agent plan`: prints a plan without running anything; bad arguments say how to fix."""

from __future__ import annotations

import json

import pytest

from edge_agent.cli.main import main
from edge_agent.errors import ExitCode


def test_plan_prints_rates_placement_and_utilisation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--device", "agx_orin", "--mode", "MODE_30W", "--cameras", "4"]) == 0
    out = capsys.readouterr().out
    assert "plan for agx_orin in MODE_30W: 4 camera(s)" in out
    assert "peoplenet" in out and "dla0" in out and "utilisation:" in out
    assert "shed: none" in out


def test_plan_json_and_shedding_on_a_small_device(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--device", "orin_nano", "--mode", "7W", "--cameras", "8",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["shed"] == ["peoplenet", "reid"]
    assert set(payload["tasks"]) == {"semseg"}
    assert all(load <= 0.8 + 1e-9 for load in payload["utilisation"].values())


def test_unknown_mode_is_planned_from_measurements_and_reported(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--device", "orin_nx", "--mode", "MODE_BOGUS"]) == 0
    out = capsys.readouterr().out
    assert "not in the table: planned with measured latencies only" in out
    assert "(probe)" in out and "modes in engines/latency/orin_nx.toml: MAXN" in out


def test_bad_arguments_name_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--device", "nope", "--mode", "MAXN"]) == ExitCode.CONFIG
    err = capsys.readouterr().err
    assert "unknown device profile 'nope'" in err and "agx_orin" in err
    assert main(["plan", "--device", "nano", "--mode", "MAXN", "--cameras", "0"]) == \
        ExitCode.CONFIG
    assert "--cameras must be at least 1" in capsys.readouterr().err
