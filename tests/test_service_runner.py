"""The agent under a test-owned NOTIFY_SOCKET: readiness, watchdog, reload, stop, exit codes.

A real stand-in model, real video files, a real mosquitto; the only injected fault is a gate
in front of the model that holds inference (a wedged accelerator), so the watchdog can be
seen to stop pinging while frames are not processed and to resume when they are.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, Mapping, Sequence

import numpy as np
import pytest
from mosquitto_broker import MosquittoBroker
from notify_socket import NotifyListener

from edge_agent.agent.daemon import Agent, semseg_model_name
from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.errors import ExitCode
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.standin import write_standin
from edge_agent.models.store import load_model_record
from edge_agent.models.tensor_spec import TensorSpec
from edge_agent.pipeline.semseg_engine import SemSegEngine
from edge_agent.service.console import StatusLine
from edge_agent.service.lifecycle import ServiceLifecycle
from edge_agent.service.notify import SocketNotifier
from edge_agent.settings import AgentSettings
from edge_agent.settings.config_file import load_settings

ROOT = Path(__file__).resolve().parents[1]


def write_config(
    tmp_path: Path, clip: Path, port: int, extra_camera: str = "", rate_hz: float = 0.0
) -> Path:
    models = tmp_path / "models"
    if not (models / "peoplesemsegnet_shuffleseg.onnx").exists():
        write_standin("peoplesemsegnet_shuffleseg", models)
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
[device]
id = "svc-dev"
[[cameras]]
id = "cam1"
url = "{clip}"
max_fps = 8
read_timeout_s = 0.5
{extra_camera}
[models]
dir = "{models}"
threads = 1
[models.semseg]
rate_hz = {rate_hz}
mask_width = 48
mask_height = 27
[mqtt]
port = {port}
connect_timeout_s = 2
[logging]
stats_interval_s = 0
[service]
stall_after_s = 1.0
ready_timeout_s = 5.0
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.avi"
    write_synthetic_clip(path, width=160, height=120, fps=10, seconds=1.0)
    return path


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[NotifyListener]:
    instance = NotifyListener(tmp_path)
    yield instance
    instance.close()


class GatedBackend:
    """Real ONNX Runtime behind a gate: while the gate is closed, run() blocks (a stall)."""

    def __init__(self, inner: OnnxRuntimeBackend, gate: threading.Event) -> None:
        self._inner = inner
        self._gate = gate

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        return self._inner.inputs

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        return self._inner.outputs

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        while not self._gate.wait(0.05):
            pass
        return self._inner.run(feeds)

    def close(self) -> None:
        self._inner.close()


def test_watchdog_stops_while_inference_stalls_and_resumes(
    tmp_path: Path, clip: Path, broker: MosquittoBroker, listener: NotifyListener
) -> None:
    settings = load_settings(write_config(tmp_path, clip, broker.port))
    gate = threading.Event()
    gate.set()

    def loader(config: AgentSettings) -> SemSegEngine:
        record = load_model_record(config.models.dir, semseg_model_name(config))
        backend = OnnxRuntimeBackend(record.onnx_path, ["CPUExecutionProvider"], 1)
        return SemSegEngine(GatedBackend(backend, gate), record.name, record.standin)

    link = ServiceLifecycle(SocketNotifier(listener.address), 0.2, settings.service)
    stop = threading.Event()
    runner = threading.Thread(
        target=run_agent,
        kwargs={
            "settings": settings,
            "status": StatusLine(sys.stderr, interactive=False),
            "stop_event": stop,
            "agent": Agent(settings, engine_loader=loader),
            "service": link,
        },
        name="test-runner",
    )
    runner.start()
    try:
        listener.wait_for(lambda m: m.has("READY=1"), 15.0)
        listener.wait_for(lambda m: m.has("WATCHDOG=1"), 5.0)
        time.sleep(1.0)
        flowing = listener.pings()
        gaps = np.diff(flowing)
        assert len(flowing) >= 3 and float(gaps.max()) <= 0.5  # interval 0.2 s, 0.1 s ticks
        gate.clear()  # inference wedges: frames keep arriving but none is processed
        stalled_at = time.monotonic()
        # threshold = max(stall_after_s 1.0, read_timeout_s 0.5 + 2) = 2.5 s
        time.sleep(4.0)
        during = [t for t in listener.pings() if t > stalled_at + 3.0]
        assert during == [], "watchdog kept pinging while no frame was processed"
        assert "STALLED cam1" in (
            listener.wait_for(
                lambda m: "STALLED" in (m.status() or ""), 7.0, after_s=stalled_at
            ).status()
            or ""
        )
        gate.set()
        resumed_at = time.monotonic()
        listener.wait_for(lambda m: m.has("WATCHDOG=1"), 3.0, after_s=resumed_at)
    finally:
        gate.set()
        stop.set()
        runner.join(15.0)
    assert not runner.is_alive()
    listener.wait_for(lambda m: m.has("STOPPING=1"), 2.0)


def _spawn(config: Path, listener: NotifyListener, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "NOTIFY_SOCKET": listener.address,
            "WATCHDOG_USEC": "1000000",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("WATCHDOG_PID", None)
    return subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run", "--config", str(config)],
        env=env,
        cwd=str(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_service_lifecycle_with_reload_and_missing_camera(
    tmp_path: Path, clip: Path, broker: MosquittoBroker, listener: NotifyListener
) -> None:
    # A V4L2 camera that does not exist: the agent must start anyway and report it down.
    missing = '[[cameras]]\nid = "usb9"\nurl = "/dev/video99"\nread_timeout_s = 0.5'
    config = write_config(tmp_path, clip, broker.port, extra_camera="", rate_hz=4.0)
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "\n" + missing + "\n", encoding="utf-8")
    process = _spawn(config, listener, tmp_path)
    try:
        ready = listener.wait_for(lambda m: m.has("READY=1"), 30.0)
        assert "usb9 reconnecting" in (ready.status() or "") or "usb9 starting" in (
            ready.status() or ""
        )
        listener.wait_for(lambda m: m.has("WATCHDOG=1"), 5.0, after_s=ready.at_s)

        # A valid change: a zone and a new rate apply live.
        config.write_text(
            config.read_text(encoding="utf-8").replace("rate_hz = 4.0", "rate_hz = 3.0"),
            encoding="utf-8",
        )
        sent_s = time.monotonic()
        process.send_signal(signal.SIGHUP)
        reloading = listener.wait_for(lambda m: m.has("RELOADING=1"), 10.0, after_s=sent_s)
        reloaded = listener.wait_for(lambda m: m.has("READY=1"), 15.0, after_s=reloading.at_s)
        assert "reload failed" not in (reloaded.status() or "")

        # An invalid change: the old config keeps running and the error is in STATUS=.
        config.write_text(
            config.read_text(encoding="utf-8").replace("rate_hz = 3.0", "rate_hz = -1"),
            encoding="utf-8",
        )
        sent_s = time.monotonic()
        process.send_signal(signal.SIGHUP)
        refused = listener.wait_for(lambda m: m.has("READY=1"), 15.0, after_s=sent_s)
        assert "reload failed, old config kept" in (refused.status() or "")
        assert "rate_hz" in (refused.status() or "")
        listener.wait_for(lambda m: m.has("WATCHDOG=1"), 5.0, after_s=refused.at_s)
        assert process.poll() is None

        sent_s = time.monotonic()
        process.send_signal(signal.SIGTERM)
        listener.wait_for(lambda m: m.has("STOPPING=1"), 10.0, after_s=sent_s)
        assert process.wait(20.0) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5.0)
        output = ""
        if process.stdout is not None:
            output = process.stdout.read().decode("utf-8", "replace")
            process.stdout.close()
    assert "reload of" in output and "refused" in output


def test_invalid_config_at_start_exits_78(tmp_path: Path, listener: NotifyListener) -> None:
    config = tmp_path / "agent.toml"
    config.write_text('[[cameras]]\nid = "a"\nurl = "x.avi"\nmax_fps = -3\n', encoding="utf-8")
    process = _spawn(config, listener, tmp_path)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == ExitCode.CONFIG == 78
    text = out.decode("utf-8")
    assert "cameras[0].max_fps" in text and "fix:" in text
    assert not any(m.has("READY=1") for m in listener.messages)
