"""PeopleSemSegNet: bare ONNX Runtime throughput vs the whole agent pipeline, in one run.

Baseline: the stand-in ShuffleSeg (960x544) run back to back on one preprocessed frame.
Pipeline: the real agent on the sample clip (file capture → preprocess → inference → decode
→ zones + RLE + JSON → MQTT QoS 1 to a private local mosquitto), counted by a separate
subscriber. The clip is read at 1.5x the bare rate, like a camera faster than the model,
so capture neither starves inference nor burns CPU decoding frames nobody uses.

Usage: python bench/bench_semseg_pipeline.py [--seconds 20] [--json OUT]
Targets (issue 2): pipeline >= 0.9 x bare throughput.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.capture.sample_footage import ensure_sample
from edge_agent.config_file import load_settings
from edge_agent.console import StatusLine
from edge_agent.daemon import Agent
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.local_broker import LocalBroker
from edge_agent.models import semseg
from edge_agent.models.standin import write_standin
from edge_agent.runner import run_agent

MODEL = "peoplesemsegnet_shuffleseg"
ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bare_fps(model_path: Path, frame: np.ndarray, seconds: float) -> Dict[str, float]:
    """Back-to-back inference on one preprocessed frame: the engine's ceiling."""
    backend = OnnxRuntimeBackend(model_path, ["CPUExecutionProvider"], 0)
    name = backend.inputs[0].name
    blob = semseg.preprocess([frame])
    for _ in range(3):
        backend.run({name: blob})
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        backend.run({name: blob})
        count += 1
    elapsed = time.perf_counter() - start
    backend.close()
    return {"fps": count / elapsed, "ms_per_frame": 1000.0 * elapsed / count, "frames": count}


class Counter:
    """A separate MQTT client counting mask events as a dashboard would receive them."""

    def __init__(self, port: int, topic: str) -> None:
        self.times: list = []
        self._ready = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-counter")
        self._client.on_connect = lambda c, *_: (c.subscribe(topic, qos=1), self._ready.set())
        self._client.on_message = lambda *_: self.times.append(time.monotonic())
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        self._ready.wait(5)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def pipeline_fps(
    workdir: Path, clip: Path, port: int, read_fps: float, seconds: float
) -> Dict[str, Any]:
    """Run the agent for `seconds`; throughput from received events after a 2 s warm-up."""
    config = workdir / "agent.toml"
    config.write_text(
        f"""[device]\nid = "bench"\n[[cameras]]\nid = "cam"\nurl = "{clip}"\n
max_fps = {read_fps:.2f}\n[[cameras.zones]]\nname = "left"\n
polygon = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]\n[models]\ndir = "{workdir / "models"}"\n
[models.semseg]\nrate_hz = 0\n[mqtt]\nport = {port}\n[logging]\nstats_interval_s = 0\n""",
        encoding="utf-8",
    )
    settings = load_settings(config)
    counter = Counter(port, "edge-agent/bench/cam/mask")
    agent = Agent(settings)
    run_agent(settings, StatusLine(sys.stderr, False), duration_s=seconds, agent=agent)
    counter.close()
    times = [t for t in counter.times if t - counter.times[0] >= 2.0] if counter.times else []
    fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    snapshot = agent.snapshot()
    return {
        "fps": fps,
        "events_received": len(counter.times),
        "events_published": snapshot.events_published,
        "frames_dropped": snapshot.frames_dropped(),
        "stage_ms": {k: round(v, 3) for k, v in snapshot.stage_ms.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    clip = ensure_sample(
        ROOT / "var" / "bench" / "footage", log=lambda s: print(s, file=sys.stderr)
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model_path = write_standin(MODEL, workdir / "models")
        import cv2

        capture = cv2.VideoCapture(str(clip.path))
        ok, frame = capture.read()
        capture.release()
        if not ok:
            raise SystemExit(f"cannot read {clip.path}")
        bare = bare_fps(model_path, frame, args.seconds / 2)
        rss_after_bare = peak_rss_mb()
        broker = LocalBroker(workdir / "broker")
        broker.start()
        try:
            pipe = pipeline_fps(workdir, clip.path, broker.port, 1.5 * bare["fps"], args.seconds)
        finally:
            broker.stop()
    result = {
        "model": MODEL + " (stand-in)",
        "clip": f"{clip.path.name} ({'synthetic' if clip.synthetic else clip.source})",
        "bare": {k: round(v, 2) for k, v in bare.items()},
        "pipeline": pipe,
        "ratio": round(pipe["fps"] / bare["fps"], 3) if bare["fps"] else 0.0,
        "peak_rss_mb": {
            "after_bare": round(rss_after_bare, 1),
            "after_pipeline": round(peak_rss_mb(), 1),
        },
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
