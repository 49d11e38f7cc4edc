"""Engine builds in a child process (real TensorRtToolkit, FAKE tensorrt inside the child).

The FAKE (tests/fake_tensorrt_lib.py) behaves like TensorRT 8.5.2: no IProgressMonitor, a
build that ignores cancellation for `block_build_s`, and DLA's static-shape rule.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, List

import pytest
from fake_tensorrt_lib import FakeState, install

from edge_agent.device.identity import DeviceIdentity
from edge_agent.device.profiles import load_profiles
from edge_agent.inference.tensorrt_build import EngineBuilder, plan_build
from edge_agent.inference.tensorrt_cache import EngineCache
from edge_agent.inference.tensorrt_settings import TrtCapabilities
from edge_agent.models.standin import write_standin
from edge_agent.models.store import load_model_record

AGX_ORIN = DeviceIdentity(kind="agx_orin", module="p3701-0005", tensorrt="8.5.2.2")
CAPS = TrtCapabilities("8.5.2.2", True, True, 2)


def toolkit(monkeypatch: pytest.MonkeyPatch, **options: Any) -> Any:
    from edge_agent.inference.tensorrt_api import TensorRtToolkit

    install(monkeypatch, FakeState(simulated_numpy="1.24.4"))
    entry = options.pop("entry", "fake_tensorrt_lib:build_in_child")
    return TensorRtToolkit(child_entry=entry, child_options=options)


def wait_for(predicate: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def request_for(tmp_path: Path, name: str, profile: str = "agx_orin") -> Any:
    write_standin(name, tmp_path / "models")
    record = load_model_record(tmp_path / "models", name)
    return plan_build(AGX_ORIN, load_profiles()[profile], record, CAPS)


def test_dla_engine_is_static_and_records_its_dla_layers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The profile file is edited to the dynamic range the old profiles had: 1..16.
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (Path(__file__).parents[1] / "engines/devices/agx_orin.toml").read_text()
    text = text.replace("batch_min = 8\nbatch_opt = 8\nbatch_max = 8",
                        "batch_min = 1\nbatch_opt = 8\nbatch_max = 16")
    (profiles / "agx_orin.toml").write_text(text)
    write_standin("reidentificationnet", tmp_path / "models")
    record = load_model_record(tmp_path / "models", "reidentificationnet")
    request = plan_build(AGX_ORIN, load_profiles(profiles)["agx_orin"], record, CAPS)
    settings = request.settings
    assert settings.dla_core == 1
    assert (settings.batch_min, settings.batch_opt, settings.batch_max) == (16, 16, 16)
    assert all(p.min_shape == p.opt_shape == p.max_shape for p in settings.inputs)
    assert any("static shape" in note for note in settings.notes)
    assert (request.key.batch_min, request.key.batch_opt, request.key.gpu_fallback) == (
        16, 16, True)
    lines: List[str] = []
    cache = EngineCache(tmp_path / "engines")
    status = EngineBuilder(toolkit(monkeypatch), cache, progress=lines.append).build_now(request)
    assert status.state == "ready", status.detail
    header = cache.check(request.key).header or {}
    assert header["dla_layers"] == 1 and header["gpu_layers"] == 0
    assert any("1 layer(s) on the DLA" in line for line in lines)


def test_stop_ends_a_build_that_cannot_be_cancelled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    request = request_for(tmp_path, "peoplenet")
    builder = EngineBuilder(toolkit(monkeypatch, block_build_s=120.0),
                            EngineCache(tmp_path / "engines"))
    assert builder.request(request).state == "building"
    started = time.monotonic()
    builder.stop(timeout_s=10.0)
    elapsed_s = time.monotonic() - started
    assert elapsed_s < 5.0, f"stop took {elapsed_s:.1f} s"
    wait_for(lambda: builder.status.state == "failed")
    assert "cancelled" in builder.status.detail
    assert not EngineCache(tmp_path / "engines").check(request.key).valid


def test_a_killed_build_process_is_reported_not_fatal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    request = request_for(tmp_path, "peoplenet")
    lines: List[str] = []
    kit = toolkit(monkeypatch, entry="fake_tensorrt_lib:die_in_child")
    status = EngineBuilder(kit, EngineCache(tmp_path / "engines"),
                           progress=lines.append).build_now(request)
    assert status.state == "failed"
    assert "signal 9" in status.detail and "out-of-memory" in status.detail
    assert "FAKE: allocating more than the device has" in lines


def test_build_process_dies_with_a_killed_agent(tmp_path: Path) -> None:
    """systemd's SIGKILL at TimeoutStopSec (or the OOM killer) must not leave a build behind."""
    import os
    import signal
    import subprocess
    import sys

    pid_file = tmp_path / "child.pid"
    tests_dir = Path(__file__).parent
    script = (f"import sys, threading; sys.path.insert(0, {str(tests_dir)!r})\n"
              "from edge_agent.inference.tensorrt_child import run_in_child\n"
              f"run_in_child('fake_tensorrt_lib:sleep_in_child', {{'pid_file': {str(pid_file)!r}}},"
              " print, threading.Event())\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        wait_for(pid_file.exists)
        wait_for(lambda: pid_file.read_text(encoding="ascii").strip() != "")
        child = int(pid_file.read_text(encoding="ascii"))
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(30)

        def gone() -> bool:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                return True
            state = Path(f"/proc/{child}/stat").read_text().split(") ", 1)[-1][:1]
            return state == "Z"  # exited, waiting to be reaped by init

        wait_for(gone, timeout_s=30)
    finally:
        if parent.poll() is None:
            parent.kill()
