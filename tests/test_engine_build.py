"""EngineBuilder through the FAKE TensorRT toolkit: background, smoke test, keep the last good."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import List

import pytest
from fake_tensorrt import FakeToolkit

from edge_agent.device.identity import DeviceIdentity
from edge_agent.device.profiles import load_profiles
from edge_agent.inference.tensorrt_build import BuildRequest, EngineBuilder, plan_build
from edge_agent.inference.tensorrt_cache import EngineCache
from edge_agent.models.standin import write_standin
from edge_agent.models.store import load_model_record

NAME = "peoplesemsegnet_shuffleseg"
IDENTITY = DeviceIdentity(kind="orin_nano", module="p3767-0005", tensorrt="8.5.2.2")


def make_request(tmp_path: Path, toolkit: FakeToolkit) -> BuildRequest:
    write_standin(NAME, tmp_path / "models")
    record = load_model_record(tmp_path / "models", NAME)
    return plan_build(IDENTITY, load_profiles()["orin_nano"], record, toolkit.capabilities())


@pytest.fixture
def toolkit() -> FakeToolkit:
    from edge_agent.models.manifest import load_manifest

    return FakeToolkit(load_manifest(NAME))


def test_plan_build_key(tmp_path: Path, toolkit: FakeToolkit) -> None:
    request = make_request(tmp_path, toolkit)
    key = request.key
    assert (key.device, key.tensorrt_version, key.precision) == (
        "orin_nano/p3767-0005", "8.5.2.2", "fp16")  # int8 wished, no calibration cache
    (tmp_path / "models" / f"{NAME}.calib").write_bytes(b"calibration")
    with_calib = plan_build(IDENTITY, load_profiles()["orin_nano"],
                            load_model_record(tmp_path / "models", NAME), toolkit.caps)
    assert with_calib.key.precision == "int8" and with_calib.key.calibration_sha256


def test_build_runs_in_background_and_caches(tmp_path: Path, toolkit: FakeToolkit) -> None:
    request = make_request(tmp_path, toolkit)
    cache = EngineCache(tmp_path / "engines")
    lines: List[str] = []
    builder = EngineBuilder(toolkit, cache, progress=lines.append)
    toolkit.gate = threading.Event()
    started = time.monotonic()
    status = builder.request(request)
    assert status.state == "building" and time.monotonic() - started < 0.5  # never blocks
    assert builder.request(request).state == "building"  # one build at a time
    toolkit.gate.set()
    final = builder.wait(10)
    assert final.state == "ready" and final.path == cache.path_for(request.key)
    assert cache.check(request.key).valid
    assert any("engine ready" in line for line in lines)
    # Second request: the valid cached engine is reused, no build.
    assert builder.request(request).detail == "cached" and len(toolkit.builds) == 1


def test_failed_smoke_inference_keeps_previous_engine(tmp_path: Path, toolkit: FakeToolkit
                                                       ) -> None:
    request = make_request(tmp_path, toolkit)
    cache = EngineCache(tmp_path / "engines")
    good = cache.store(request.key, b"last good plan")
    good.write_bytes(good.read_bytes()[:-1])  # now corrupt: must be rebuilt
    toolkit.bad_output = True
    builder = EngineBuilder(toolkit, cache, progress=lambda line: None)
    status = builder.build_now(request)
    assert status.state == "failed" and "smoke inference" in status.detail
    assert good.exists()  # untouched: not replaced by an engine that failed its smoke test
    toolkit.bad_output = False
    assert builder.build_now(request).state == "ready" and cache.check(request.key).valid


def test_corrupt_and_foreign_engines_are_rebuilt_not_loaded(tmp_path: Path,
                                                           toolkit: FakeToolkit) -> None:
    request = make_request(tmp_path, toolkit)
    cache = EngineCache(tmp_path / "engines")
    from edge_agent.inference.tensorrt_cache import encode

    foreign = dataclasses.replace(request.key, tensorrt_version="10.3.0.30")
    cache.directory.mkdir(parents=True)
    cache.path_for(request.key).write_bytes(encode(foreign, b"foreign plan"))
    lines: List[str] = []
    status = EngineBuilder(toolkit, cache, progress=lines.append).build_now(request)
    assert status.state == "ready"
    assert b"foreign plan" not in toolkit.loaded  # only the freshly built plan was loaded
    assert any("foreign" in line and "will not be loaded" in line for line in lines)


def test_build_failure_reported(tmp_path: Path, toolkit: FakeToolkit) -> None:
    toolkit.fail_build = True
    request = make_request(tmp_path, toolkit)
    status = EngineBuilder(toolkit, EngineCache(tmp_path / "e")).build_now(request)
    assert status.state == "failed" and "FAKE build failure" in status.detail


def test_elapsed_time_progress_without_monitor(tmp_path: Path, toolkit: FakeToolkit) -> None:
    toolkit.monitor = False
    toolkit.gate = threading.Event()
    request = make_request(tmp_path, toolkit)
    lines: List[str] = []
    builder = EngineBuilder(toolkit, EngineCache(tmp_path / "e"), progress=lines.append,
                            elapsed_every_s=0.02)
    builder.request(request)
    deadline = time.monotonic() + 5
    while not any("elapsed" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.01)
    toolkit.gate.set()
    assert builder.wait(10).state == "ready"
    assert any("s elapsed" in line for line in lines)


def test_stop_cancels_a_running_build(tmp_path: Path, toolkit: FakeToolkit) -> None:
    toolkit.gate = threading.Event()
    request = make_request(tmp_path, toolkit)
    builder = EngineBuilder(toolkit, EngineCache(tmp_path / "e"))
    builder.request(request)
    builder.stop(timeout_s=5)
    assert builder.status.state == "failed" and "cancelled" in builder.status.detail
