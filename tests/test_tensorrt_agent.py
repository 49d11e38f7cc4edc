"""The agent on `models.backend = "tensorrt"`, through the FAKE at the tensorrt boundary.

tests/fake_tensorrt.OnnxFakeToolkit stands in for TensorRT only (it is labelled FAKE): its
engines run the stand-in ONNX in onnxruntime, so outputs are real; they bind INT64 as INT32,
report the batch dimension as 'N' and refuse batches above the optimization profile, as real
engines do. Everything else is real: device trees, profiles, the cache files, the builder thread,
mosquitto.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable, List

import numpy as np
import pytest
from fake_tensorrt import OnnxFakeToolkit
from jetson_tree import agx_orin_tree
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Subscriber

from edge_agent.agent.daemon import Agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.device.tuning import detect_device
from edge_agent.errors import ModelContractError
from edge_agent.frames import Frame
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.inference.tensorrt_build import BuildRequest, EngineBuilder, plan_build
from edge_agent.inference.tensorrt_cache import EngineCache, encode
from edge_agent.models.manifest import load_manifest
from edge_agent.models.standin import write_standin
from edge_agent.models.store import load_model_record
from edge_agent.pipeline.semseg_engine import SemSegEngine
from edge_agent.pipeline.semseg_tensorrt import load_tensorrt_semseg
from edge_agent.settings import AgentSettings
from edge_agent.settings.config_file import load_settings

NAME = "peoplesemsegnet_shuffleseg"


def settings_file(tmp_path: Path, port: int = 1, clip: str = "/nonexistent.avi") -> Path:
    models = tmp_path / "models"
    if not (models / f"{NAME}.onnx").exists():
        write_standin(NAME, models)
    path = tmp_path / "agent.toml"
    path.write_text(
        f'[device]\nid = "dev"\n[[cameras]]\nid = "cam1"\nurl = "{clip}"\non_eof = "loop"\n'
        f'[models]\ndir = "{models}"\nbackend = "tensorrt"\nthreads = 1\n'
        f'engine_dir = "{tmp_path / "engines"}"\n'
        f'[models.semseg]\nvariant = "shuffleseg"\nrate_hz = 0\nmask_width = 48\n'
        f'mask_height = 27\n[mqtt]\nport = {port}\n[outbox]\npath = "{tmp_path / "o.sqlite"}"\n',
        encoding="utf-8")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return agx_orin_tree(tmp_path / "root")  # AGX Orin: shuffleseg batch_max 4 in its profile


@pytest.fixture
def toolkit() -> OnnxFakeToolkit:
    return OnnxFakeToolkit(load_manifest(NAME))


def request_for(tmp_path: Path, root: Path, toolkit: OnnxFakeToolkit) -> BuildRequest:
    device = detect_device(root)
    record = load_model_record(tmp_path / "models", NAME)
    return plan_build(device.identity, device.choice.profile, record, toolkit.capabilities())


def frames(count: int) -> List[Frame]:
    out = []
    for i in range(count):
        pixels = np.full((90, 160, 3), 200, dtype=np.uint8)
        pixels[20:70, 10 + 10 * i:60 + 10 * i] = 5  # dark block: the stand-in's "person"
        out.append(Frame("cam", i, 0.0, 0.0, pixels))
    return out


def wait_until(predicate: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_cached_engine_is_loaded_and_gives_real_results(tmp_path: Path, root: Path,
                                                        toolkit: OnnxFakeToolkit) -> None:
    settings = load_settings(settings_file(tmp_path))
    request = request_for(tmp_path, root, toolkit)
    cache = EngineCache(tmp_path / "engines")
    assert EngineBuilder(toolkit, cache).build_now(request).state == "ready"
    engine = load_tensorrt_semseg(settings, root=root, toolkit=toolkit)
    try:
        assert len(toolkit.builds) == 1  # the cached engine was used, nothing rebuilt
        batch = frames(6)  # above the profile's batch_max 4: run as 4 + 2
        got = engine.infer(batch)
        engine_run = toolkit.engines[-1]
        assert engine_run.runs == 2 and engine_run.batch_max == 4
        reference = SemSegEngine(OnnxRuntimeBackend(tmp_path / "models" / f"{NAME}.onnx",
                                                    ["CPUExecutionProvider"], 1), NAME, True)
        want = reference.infer(batch)
        reference.close()
        for a, b in zip(got.outputs, want.outputs):
            assert np.array_equal(a.class_map, b.class_map)
        assert 0.0 < got.outputs[0].person_fraction() < 1.0
    finally:
        engine.close()
    assert toolkit.engines[-1].closed


def test_agent_runs_on_cpu_while_building_then_swaps(tmp_path: Path, root: Path,
                                                     toolkit: OnnxFakeToolkit,
                                                     broker: MosquittoBroker,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clip = write_synthetic_clip(tmp_path / "clip.avi", 160, 90, 10.0, 1.0)
    settings = load_settings(settings_file(tmp_path, broker.port, str(clip)))
    toolkit.gate = threading.Event()  # the build waits until released

    def loader(s: AgentSettings) -> SemSegEngine:
        return load_tensorrt_semseg(s, root=root, toolkit=toolkit)

    agent = Agent(settings, engine_loader=loader, device_root=root)
    with Subscriber(broker.port, ["edge-agent/dev/#"]) as subscriber:
        started = time.monotonic()
        agent.prepare()
        agent.start()
        try:
            assert time.monotonic() - started < 15  # start-up did not wait for the build
            subscriber.wait_for(lambda m: m.topic.endswith("/mask"), timeout_s=20)
            assert toolkit.engines == []  # events so far came from ONNX Runtime on the CPU
            toolkit.gate.set()
            assert wait_until(lambda: any("switched to TensorRT" in r.getMessage()
                                          for r in caplog.records))
            serving = toolkit.engines[-1]  # [0] ran the smoke inference and was closed
            assert toolkit.engines[0].closed and not serving.closed
            before = len([m for m in subscriber.messages() if m.topic.endswith("/mask")])
            assert wait_until(lambda: serving.runs >= 2 and len(
                [m for m in subscriber.messages() if m.topic.endswith("/mask")]) > before)
        finally:
            agent.stop(5.0)
    assert serving.closed
    assert EngineCache(tmp_path / "engines").check(
        request_for(tmp_path, root, toolkit).key).valid


@pytest.mark.parametrize("damage", ["corrupt", "foreign"])
def test_corrupt_or_foreign_engine_is_rebuilt_never_loaded(tmp_path: Path, root: Path,
                                                          toolkit: OnnxFakeToolkit,
                                                          damage: str,
                                                          caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    settings = load_settings(settings_file(tmp_path))
    request = request_for(tmp_path, root, toolkit)
    cache = EngineCache(tmp_path / "engines")
    path = cache.store(request.key, b"BAD PLAN")
    if damage == "corrupt":
        path.write_bytes(path.read_bytes()[:-1])
    else:
        import dataclasses

        other = dataclasses.replace(request.key, tensorrt_version="10.3.0.30")
        path.write_bytes(encode(other, b"BAD PLAN"))
    caplog.set_level(logging.INFO)
    engine = load_tensorrt_semseg(settings, root=root, toolkit=toolkit)
    try:
        assert any(f"is {damage}" in r.getMessage() and "never loaded" in r.getMessage()
                   for r in caplog.records)
        engine.infer(frames(1))  # serving on the CPU meanwhile
        assert wait_until(lambda: any("switched to TensorRT" in r.getMessage()
                                      for r in caplog.records))
        assert b"BAD PLAN" not in toolkit.loaded
        assert cache.check(request.key).valid
        engine.infer(frames(2))
        assert toolkit.engines[-1].runs == 1
    finally:
        engine.close()


def test_cached_engine_that_breaks_the_contract_is_refused(tmp_path: Path, root: Path,
                                                          toolkit: OnnxFakeToolkit) -> None:
    settings = load_settings(settings_file(tmp_path))
    request = request_for(tmp_path, root, toolkit)
    plan = (f'{{"fake_plan": "{NAME}", "onnx": "{tmp_path / "models" / (NAME + ".onnx")}", '
            '"batch_max": 4, "mismatch": true}').encode()
    EngineCache(tmp_path / "engines").store(request.key, plan)
    with pytest.raises(ModelContractError) as caught:
        load_tensorrt_semseg(settings, root=root, toolkit=toolkit)
    assert "'argmax_1': missing" in caught.value.problem
    assert caught.value.exit_code == 65
    assert toolkit.engines[-1].closed


def test_new_engine_failing_its_smoke_inference_keeps_the_cpu(tmp_path: Path, root: Path,
                                                             toolkit: OnnxFakeToolkit,
                                                             caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    settings = load_settings(settings_file(tmp_path))
    toolkit.mismatch = True  # the build produces an engine with the wrong outputs
    caplog.set_level(logging.INFO)
    engine = load_tensorrt_semseg(settings, root=root, toolkit=toolkit)
    try:
        assert wait_until(lambda: any("staying on ONNX Runtime" in r.getMessage()
                                      for r in caplog.records))
        assert any("smoke inference" in r.getMessage() for r in caplog.records)
        assert list((tmp_path / "engines").glob("*.engine")) == []  # nothing bad was cached
        result = engine.infer(frames(1))  # still serving, on the CPU
        assert result.outputs[0].class_map.shape == (544, 960)
    finally:
        engine.close()


def test_without_tensorrt_the_config_error_names_both_fixes(tmp_path: Path, root: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("tensorrt") is not None:
        pytest.skip("tensorrt installed here")
    from edge_agent.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_tensorrt_semseg(load_settings(settings_file(tmp_path)), root=root)
    assert "python3-libnvinfer" in caught.value.fix and "onnxruntime" in caught.value.fix


def test_doctor_lists_engines_valid_here_from_the_configs_engine_dir(
        tmp_path: Path, root: Path, toolkit: OnnxFakeToolkit,
        capsys: pytest.CaptureFixture[str]) -> None:
    from jetson_tree import write
    from mosquitto_broker import free_port

    from edge_agent.cli.main import main

    write(root, "/var/lib/dpkg/status",
          "Package: tensorrt\nStatus: install ok installed\nVersion: 8.5.2.2-1+cuda11.4\n")
    config = settings_file(tmp_path, free_port())
    config.write_text(config.read_text(encoding="utf-8").replace(
        'variant = "shuffleseg"', 'variant = "auto"'), encoding="utf-8")
    write_standin("peoplesemsegnet_vanilla_unet", tmp_path / "models")
    request = request_for(tmp_path, root, toolkit)  # FAKE caps report TensorRT 8.5.2.2
    EngineBuilder(toolkit, EngineCache(tmp_path / "engines")).build_now(request)
    assert main(["doctor", "--root", str(root), "--config", str(config)]) == 1  # no broker
    out = capsys.readouterr().out
    assert "1 of 1 cached engine(s)" in out and "valid for agx_orin/p3701-0005" in out
    assert "[ ok ] model: peoplesemsegnet_vanilla_unet" in out  # variant auto on AGX Orin
