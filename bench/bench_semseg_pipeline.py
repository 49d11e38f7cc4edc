"""Bare model throughput vs the whole agent pipeline, interleaved in one process.

Baseline ("bare"): the stand-in models run back to back on one preprocessed frame —
ShuffleSeg (960x544) alone, or with `--tracking` ShuffleSeg + PeopleNet + ReID on the same
frame, one after the other (the CPU cost of one frame through every model).
Pipeline: the real agent on the sample clip (file capture → tasks on the CPU executor →
event sinks → zones + RLE + JSON, tracks and counts → MQTT QoS 1 to a private mosquitto).
Segmentation throughput is counted by a separate subscriber (mask events received); with
tracking the pipeline's rate is the slower of the two source tasks (frames run by each). The
clip is read at 1.5x the bare rate, like a camera faster than the models.

Bare and pipeline runs alternate (bare, pipeline, bare, pipeline, ...) for `--rounds`, so a
slow phase of a shared machine hits both; the ratio is taken per round and reported as the
median with its spread.

Usage: python bench/bench_semseg_pipeline.py [--seconds 12] [--rounds 3] [--tracking] [--json OUT]
Targets (issue 9): pipeline >= 0.93 x bare for segmentation, >= 0.90 with tracking.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.agent.daemon import Agent
from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import ensure_sample
from edge_agent.demo.local_broker import LocalBroker
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models import semseg
from edge_agent.models.standin import write_standin
from edge_agent.service.console import StatusLine
from edge_agent.settings.config_file import load_settings

MODEL = "peoplesemsegnet_shuffleseg"
ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bare_fps(models: Path, frame: np.ndarray, seconds: float,
             tracking: bool) -> Dict[str, float]:
    """Back-to-back inference on one preprocessed frame: the models' ceiling."""
    calls = []
    seg = OnnxRuntimeBackend(models / f"{MODEL}.onnx", ["CPUExecutionProvider"], 0)
    seg_blob = semseg.preprocess([frame])
    calls.append(lambda: seg.run({seg.inputs[0].name: seg_blob}))
    backends = [seg]
    if tracking:
        # PeopleNet, clustering and ReID on every person it finds, exactly as the tracking
        # tasks do (the same PeopleEngine calls), so crops are counted as in the pipeline.
        from edge_agent.frames import Frame
        from edge_agent.pipeline.people_engine import PeopleEngine
        from edge_agent.pipeline.people_models import cluster_params
        from edge_agent.settings.tracking import TrackingSettings

        det = OnnxRuntimeBackend(models / "peoplenet.onnx", ["CPUExecutionProvider"], 0)
        emb = OnnxRuntimeBackend(models / "reidentificationnet.onnx",
                                 ["CPUExecutionProvider"], 0)
        people = PeopleEngine(det, cluster_params(TrackingSettings()), 1, emb, 16)
        shot = [Frame("cam", 1, 0.0, 0.0, frame)]
        calls.append(lambda: people.infer(shot))
        backends += [det, emb]
    for _ in range(3):
        for call in calls:
            call()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for call in calls:
            call()
        count += 1
    elapsed = time.perf_counter() - start
    for backend in backends:
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


WARMUP_S = 2.0


def pipeline_fps(workdir: Path, clip: Path, port: int, read_fps: float, seconds: float,
                 tracking: bool) -> Dict[str, Any]:
    """Run the agent for `seconds`; throughput after a 2 s warm-up."""
    config = workdir / "agent.toml"
    tracking_section = (f'[models.tracking]\nenabled = true\nrate_hz = 100\n'
                        f'state_dir = "{workdir / "state"}"\n' if tracking else "")
    config.write_text(
        f"""[device]\nid = "bench"\n[[cameras]]\nid = "cam"\nurl = "{clip}"\n
max_fps = {read_fps:.2f}\n[[cameras.zones]]\nname = "left"\n
polygon = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]\n[models]\ndir = "{workdir / "models"}"\n
[models.semseg]\nrate_hz = 0\n{tracking_section}[mqtt]\nport = {port}\n
[outbox]\npath = "{workdir / "outbox.sqlite"}"\n[logging]\nstats_interval_s = 0\n""",
        encoding="utf-8",
    )
    settings = load_settings(config)
    counter = Counter(port, "edge-agent/bench/cam/mask")
    agent = Agent(settings)
    ran: Dict[str, int] = {}

    def sample_after_warmup() -> None:
        time.sleep(WARMUP_S)
        ran.update(_task_items(agent))
        ran["_t"] = int(time.monotonic() * 1e6)

    sampler = threading.Thread(target=sample_after_warmup, daemon=True)
    sampler.start()
    run_agent(settings, StatusLine(sys.stderr, False), duration_s=seconds, agent=agent)
    end_items, end_t = _task_items(agent), time.monotonic()
    counter.close()
    sampler.join()
    span_s = end_t - ran.pop("_t") / 1e6
    task_fps = {task: (end_items[task] - ran.get(task, 0)) / span_s for task in end_items}
    times = [t for t in counter.times if t - counter.times[0] >= WARMUP_S] if counter.times else []
    mask_fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    sources = [task_fps[name] for name in ("semseg", "peoplenet") if name in task_fps]
    snapshot = agent.snapshot()
    return {
        "fps": min([mask_fps] + sources[1:]) if tracking else mask_fps,
        "mask_events_fps": round(mask_fps, 2),
        "task_fps": {k: round(v, 2) for k, v in task_fps.items()},
        "events_received": len(counter.times),
        "frames_dropped": snapshot.frames_dropped(),
        "stage_ms": {k: round(v, 3) for k, v in snapshot.stage_ms.items()},
        "rss_mb": round(current_rss_mb(), 1),
    }


def _task_items(agent: Agent) -> Dict[str, int]:
    items: Dict[str, int] = {}
    for executor in agent.runtime.executors.values():
        items.update(executor.counters.items)
    return items


def current_rss_mb() -> float:
    """Resident set size now (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def spread(values: List[float]) -> Dict[str, float]:
    """Median, min and max."""
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="pipeline run per round")
    parser.add_argument("--rounds", type=int, default=3, help="bare/pipeline pairs (>= 3)")
    parser.add_argument("--tracking", action="store_true", help="PeopleNet + ReID too")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    clip = ensure_sample(
        ROOT / "var" / "bench" / "footage", log=lambda s: print(s, file=sys.stderr)
    )
    rounds: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name in [MODEL] + (["peoplenet", "reidentificationnet"] if args.tracking else []):
            write_standin(name, workdir / "models")
        import cv2

        capture = cv2.VideoCapture(str(clip.path))
        ok, frame = capture.read()
        capture.release()
        if not ok:
            raise SystemExit(f"cannot read {clip.path}")
        broker = LocalBroker(workdir / "broker")
        broker.start()
        try:
            for index in range(args.rounds):
                bare = bare_fps(workdir / "models", frame, args.seconds / 2, args.tracking)
                pipe = pipeline_fps(workdir, clip.path, broker.port, 1.5 * bare["fps"],
                                    args.seconds, args.tracking)
                ratio = pipe["fps"] / bare["fps"] if bare["fps"] else 0.0
                print(f"round {index + 1}: bare {bare['fps']:.2f} fps, pipeline "
                      f"{pipe['fps']:.2f} fps, ratio {ratio:.3f}", file=sys.stderr)
                rounds.append({"bare": {k: round(v, 2) for k, v in bare.items()},
                               "pipeline": pipe, "ratio": round(ratio, 3)})
        finally:
            broker.stop()
    result = {
        "models": [MODEL] + (["peoplenet", "reidentificationnet"] if args.tracking else []),
        "stand_in": True,
        "clip": f"{clip.path.name} ({'synthetic' if clip.synthetic else clip.source})",
        "rounds": rounds,
        "bare_fps": spread([r["bare"]["fps"] for r in rounds]),
        "pipeline_fps": spread([r["pipeline"]["fps"] for r in rounds]),
        "ratio": spread([r["ratio"] for r in rounds]),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
