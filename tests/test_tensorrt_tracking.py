"""People tracking on `models.backend = "tensorrt"`, through the FAKE at the tensorrt boundary.

tests/fake_tensorrt.OnnxFakeToolkit (labelled FAKE) stands in for TensorRT only: its engines
run the stand-in PeopleNet / ReID ONNX in onnxruntime, so detections and embeddings are real;
everything else is real (device tree, AGX Orin profile, cache files, builder threads,
mosquitto). Also checks that telemetry and the status line say which backend serves each model.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest
from fake_tensorrt import OnnxFakeToolkit
from jetson_tree import agx_orin_tree
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber
from test_tensorrt_agent import wait_until

from edge_agent.agent.daemon import Agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.device.tuning import detect_device
from edge_agent.frames import Frame
from edge_agent.inference.tensorrt_build import BuildRequest, EngineBuilder, plan_build
from edge_agent.inference.tensorrt_cache import EngineCache
from edge_agent.models.manifest import load_manifest
from edge_agent.models.standin import write_standin
from edge_agent.models.store import load_model_record
from edge_agent.pipeline.people_engine import PeopleEngine
from edge_agent.pipeline.people_models import PeopleLoader, load_people_engine
from edge_agent.pipeline.status import CameraLine, StatusSnapshot, format_status_line
from edge_agent.settings import AgentSettings
from edge_agent.settings.config_file import load_settings

MODELS = ("peoplenet", "reidentificationnet")
ROOT = "edge-agent/dev"


def config(tmp_path: Path, port: int = 1, clip: str = "/nonexistent.avi") -> Path:
    models = tmp_path / "models"
    for name in MODELS:
        if not (models / f"{name}.onnx").exists():
            write_standin(name, models)
    path = tmp_path / "agent.toml"
    path.write_text(
        f'[device]\nid = "dev"\n[[cameras]]\nid = "cam1"\nurl = "{clip}"\non_eof = "loop"\n'
        f'max_fps = 20\n[models]\ndir = "{models}"\nbackend = "tensorrt"\nthreads = 1\n'
        f'engine_dir = "{tmp_path / "engines"}"\n[models.semseg]\nenabled = false\n'
        f'[models.tracking]\nenabled = true\nrate_hz = 10\nmin_hits = 2\nwarmup_s = 0.0\n'
        f'update_interval_s = 0.2\nstate_dir = "{tmp_path / "state"}"\n'
        f'[mqtt]\nport = {port}\ntelemetry_interval_s = 0.3\n'
        f'[outbox]\npath = "{tmp_path / "o.sqlite"}"\n',
        encoding="utf-8")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return agx_orin_tree(tmp_path / "root")  # profile: peoplenet on DLA 0, ReID on DLA 1


@pytest.fixture
def toolkit() -> OnnxFakeToolkit:
    return OnnxFakeToolkit(load_manifest("peoplenet"))  # its engines follow the plan's ONNX


def request_for(tmp_path: Path, root: Path, toolkit: OnnxFakeToolkit, name: str) -> BuildRequest:
    device = detect_device(root)
    record = load_model_record(tmp_path / "models", name)
    return plan_build(device.identity, device.choice.profile, record, toolkit.capabilities())


def frames(count: int) -> List[Frame]:
    out = []
    for i in range(count):
        pixels = np.full((240, 320, 3), 200, dtype=np.uint8)
        pixels[40:200, 40 + 40 * i:100 + 40 * i] = 5  # dark upright block: a stand-in "person"
        out.append(Frame("cam1", i, 0.0, 0.0, pixels))
    return out


def loader_for(root: Path, toolkit: OnnxFakeToolkit) -> PeopleLoader:
    def load(settings: AgentSettings) -> Tuple[PeopleEngine, bool]:
        return load_people_engine(settings, root=root, toolkit=toolkit)
    return load


def switched(caplog: pytest.LogCaptureFixture, count: int) -> bool:
    return len([r for r in caplog.records if "switched to TensorRT" in r.getMessage()]) >= count


def tracks(subscriber: Subscriber) -> List[Received]:
    return [m for m in subscriber.messages() if m.topic.endswith("/cam1/track")]


def telemetry_backends(subscriber: Subscriber) -> List[Dict[str, str]]:
    return [json.loads(m.payload)["backends"] for m in subscriber.messages()
            if m.topic == f"{ROOT}/telemetry"]


def test_agent_tracks_on_cpu_while_engines_build_then_on_the_engines(
        tmp_path: Path, root: Path, toolkit: OnnxFakeToolkit, broker: MosquittoBroker,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clip = write_synthetic_clip(tmp_path / "clip.avi", 320, 240, 10.0, 2.0)
    settings = load_settings(config(tmp_path, broker.port, str(clip)))
    toolkit.gate = threading.Event()  # the first build waits until released; the second
    # waits for the first (one build per device at a time: inference/build_lock.py)
    agent = Agent(settings, device_root=root, people_loader=loader_for(root, toolkit))
    building = {"peoplenet": "tensorrt-building", "reidentificationnet": "tensorrt-building"}
    with Subscriber(broker.port, [f"{ROOT}/#"]) as subscriber:
        agent.prepare()
        agent.start()
        try:
            subscriber.wait_for(lambda m: m.topic.endswith("/cam1/track"), timeout_s=20)
            assert toolkit.engines == []  # track events so far came from ONNX Runtime (CPU)
            assert agent.model_backends() == building
            assert "backend peoplenet=tensorrt-building" in format_status_line(agent.snapshot())
            assert wait_until(lambda: building in telemetry_backends(subscriber))
            assert len(toolkit.builds) == 1  # the other build waits for the device's lock
            toolkit.gate.set()
            assert wait_until(lambda: switched(caplog, 2))
            settings_by_model = {b.model_name: b for b in toolkit.builds}
            assert settings_by_model["peoplenet"].dla_core == 0  # each model's own profile entry
            assert settings_by_model["reidentificationnet"].dla_core == 1
            assert settings_by_model["peoplenet"].batch_max == 2
            engaged = {"peoplenet": "tensorrt", "reidentificationnet": "tensorrt"}
            assert agent.model_backends() == engaged
            serving = [e for e in toolkit.engines if not e.closed]  # smoke-test ones are closed
            assert len(serving) == 2
            before = len(tracks(subscriber))
            assert wait_until(lambda: all(e.runs >= 2 for e in serving)
                              and len(tracks(subscriber)) > before)
            assert wait_until(lambda: engaged in telemetry_backends(subscriber))
            assert "peoplenet=tensorrt" in format_status_line(agent.snapshot())
        finally:
            agent.stop(5.0)
    assert all(e.closed for e in serving)
    cache = EngineCache(tmp_path / "engines")
    for name in MODELS:
        assert cache.check(request_for(tmp_path, root, toolkit, name).key).valid


def test_cached_engines_serve_at_once_with_real_detections(
        tmp_path: Path, root: Path, toolkit: OnnxFakeToolkit) -> None:
    path = config(tmp_path)
    settings = load_settings(path)
    cpu_path = tmp_path / "cpu.toml"
    cpu_path.write_text(path.read_text(encoding="utf-8").replace(
        'backend = "tensorrt"', 'backend = "onnxruntime"'), encoding="utf-8")
    cpu = load_settings(cpu_path)
    cache = EngineCache(tmp_path / "engines")
    for name in MODELS:
        request = request_for(tmp_path, root, toolkit, name)
        assert EngineBuilder(toolkit, cache).build_now(request).state == "ready"
    built = len(toolkit.builds)
    engine, standin = load_people_engine(settings, root=root, toolkit=toolkit)
    reference, _ = load_people_engine(cpu)
    try:
        assert standin and len(toolkit.builds) == built  # cached engines used, nothing rebuilt
        assert (engine.detector_backend, engine.embedder_backend) == ("tensorrt", "tensorrt")
        assert (reference.detector_backend, reference.embedder_backend) == (
            "onnxruntime", "onnxruntime")
        got, want = engine.infer(frames(3)), reference.infer(frames(3))  # 3 > batch_max 2
        for a, b in zip(got.results, want.results):
            assert np.allclose(a.detections.boxes, b.detections.boxes, atol=1e-3)
            assert a.embeddings is not None and b.embeddings is not None
            assert np.allclose(a.embeddings, b.embeddings, atol=1e-4)
        assert sum(len(r.detections.boxes) for r in got.results) >= 3
    finally:
        engine.close()
        reference.close()


def test_corrupt_cached_peoplenet_engine_is_rebuilt_never_loaded(
        tmp_path: Path, root: Path, toolkit: OnnxFakeToolkit,
        caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(config(tmp_path))
    request = request_for(tmp_path, root, toolkit, "peoplenet")
    cache = EngineCache(tmp_path / "engines")
    path = cache.store(request.key, b"BAD PLAN")
    path.write_bytes(path.read_bytes()[:-1])
    caplog.set_level(logging.INFO)
    engine, _ = load_people_engine(settings, root=root, toolkit=toolkit)
    try:
        assert any("is corrupt" in r.getMessage() and "never loaded" in r.getMessage()
                   for r in caplog.records)
        assert engine.infer(frames(1)).results  # serving on the CPU meanwhile
        assert wait_until(lambda: switched(caplog, 2))
        assert b"BAD PLAN" not in toolkit.loaded
        assert cache.check(request.key).valid
        assert engine.detector_backend == "tensorrt"
    finally:
        engine.close()


def test_failed_build_shows_onnxruntime_cpu(tmp_path: Path, root: Path,
                                           toolkit: OnnxFakeToolkit,
                                           caplog: pytest.LogCaptureFixture) -> None:
    toolkit.fail_build = True
    caplog.set_level(logging.INFO)
    engine, _ = load_people_engine(load_settings(config(tmp_path)), root=root, toolkit=toolkit)
    try:
        assert wait_until(lambda: engine.detector_backend == "onnxruntime-cpu"
                          and engine.embedder_backend == "onnxruntime-cpu")
        assert engine.infer(frames(1)).results  # still serving, on the CPU
    finally:
        engine.close()


def test_status_line_names_backends_only_when_not_plain_onnxruntime() -> None:
    def snapshot(backends: Dict[str, str]) -> StatusSnapshot:
        return StatusSnapshot(1.0, [CameraLine("lobby", "streaming", 9.8, 0, 0)], 41.2, {}, 1, 1,
                              0, "up", backends=backends)

    assert "backend" not in format_status_line(snapshot({"peoplenet": "onnxruntime"}))
    line = format_status_line(snapshot({"peoplesemsegnet_shuffleseg": "tensorrt",
                                        "peoplenet": "onnxruntime-cpu"}))
    assert "| backend peoplesemsegnet_shuffleseg=tensorrt peoplenet=onnxruntime-cpu |" in line
