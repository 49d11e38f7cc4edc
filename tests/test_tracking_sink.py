"""Tracking end to end without the threads: stand-in models run as tasks, the tracking sink,
a real broker, restart-correct counts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber

from edge_agent.analytics.state import StateStore
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.events.track_payloads import decode_embedding
from edge_agent.frames import Frame
from edge_agent.models.standin import write_standin
from edge_agent.pipeline.people_models import load_people_engine
from edge_agent.pipeline.people_tasks import PeopleNetTask, ReidTask
from edge_agent.pipeline.tracking_sink import TrackingSink
from edge_agent.runtime.task import Task, WorkItem
from edge_agent.settings import AgentSettings, MqttSettings, OutboxSettings
from edge_agent.transport.durable_publisher import DurablePublisher

ROOT = "edge-agent/dev1"


def settings(tmp_path: Path, port: int, **tracking: Any) -> AgentSettings:
    models = tmp_path / "models"
    if not models.exists():
        write_standin("peoplenet", models)
        write_standin("reidentificationnet", models)
    cfg: Dict[str, Any] = {"enabled": True, "state_dir": str(tmp_path / "state"),
                           "min_hits": 1, "warmup_s": 0.0}
    cfg.update(tracking)
    return AgentSettings(
        cameras=[{
            "id": "cam1", "url": "x.avi",
            "zones": [{"name": "right", "polygon": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]}],
            "lines": [{"name": "door", "start": [0.4, 0.0], "end": [0.4, 1.0]}],
        }],
        models={"dir": str(models), "tracking": cfg},
        mqtt={"port": port},
    )


def walker(k: int) -> Frame:
    """White 960x544 frame with one dark 16x16 'person' moving 16 px right per frame."""
    pixels = np.full((544, 960, 3), 255, np.uint8)
    x = 160 + 16 * k
    pixels[256:272, x : x + 16] = 10
    return Frame("cam1", k + 1, 1000.0 + k / 10.0, k / 10.0, pixels)


def run_task(task: Task, items: List[WorkItem]) -> List[Any]:
    """prepare → run → decode, as an executor would (on this thread)."""
    return task.decode(items, task.run(task.prepare(items)))


def run_stage(tmp_path: Path, broker: MosquittoBroker, frames: List[Frame],
              **tracking: Any) -> List[Received]:
    cfg = settings(tmp_path, broker.port, **tracking)
    publisher = DurablePublisher(
        MqttSettings(port=broker.port),
        OutboxSettings(path=tmp_path / "outbox.sqlite"),
        "dev1",
        "test",
    )
    with Subscriber(broker.port, [f"{ROOT}/cam1/#"]) as sub:
        publisher.start()
        try:
            assert publisher.wait_connected(5.0)
            engine, standin = load_people_engine(cfg)
            tracking = cfg.models.tracking
            detect = PeopleNetTask(engine, tracking.peoplenet_model, ["cam1"], standin)
            embed = ReidTask(engine, tracking.reid_model, ["cam1"], standin)
            store = StateStore(tracking.state_dir)
            sink = TrackingSink(tracking, Topics("edge-agent", "dev1"), "dev1",
                                SequenceCounter(), 1, standin, saved=store.load(),
                                clock=lambda: 1000.0)
            sink.set_cameras(cfg.cameras)
            try:
                for frame in frames:
                    detected = run_task(detect, [WorkItem(frame)])
                    people = run_task(embed, [WorkItem(frame, detected[0])])
                    for message in sink.handle(people):
                        publisher.publish(message)
            finally:
                for message in sink.end_messages():
                    publisher.publish(message)
                snapshot = sink.snapshot()
                store.save(snapshot["cameras"], snapshot["saved_ts"])  # type: ignore[arg-type]
                engine.close()
            assert publisher.flush(5.0)
            sub.wait_for(lambda m: m.topic.endswith("/line/door/count"), 5.0)
            settle(sub)
        finally:
            publisher.stop(3.0)
        return sub.messages()


def settle(sub: Subscriber, quiet_s: float = 0.3, limit_s: float = 5.0) -> None:
    """Wait until no new message arrived for quiet_s (the broker has forwarded everything)."""
    deadline = time.monotonic() + limit_s
    count = -1
    while time.monotonic() < deadline and count != len(sub.messages()):
        count = len(sub.messages())
        time.sleep(quiet_s)


def last(messages: List[Received], topic: str) -> bytes:
    return [m.payload for m in messages if m.topic == topic][-1]


def test_walker_is_tracked_counted_and_crosses_the_line(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    messages = run_stage(tmp_path, broker, [walker(k) for k in range(30)])
    events = [json.loads(m.payload) for m in messages if m.topic == f"{ROOT}/cam1/track"]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "new" and kinds[-1] == "end" and "update" in kinds
    assert len({e["id"] for e in events}) == 1, "one person, one stable id"
    assert all(e["standin"] for e in events)
    assert events[0]["embedding_dim"] == 256
    emb = decode_embedding(events[0]["embedding"])
    assert abs(float(np.linalg.norm(emb)) - 1.0) < 1e-2
    assert all(e["embedding"] is None for e in events if e["type"] == "update")
    entered = [e for e in events if e["zones"]["entered"] == ["right"]]
    assert len(entered) == 1 and entered[0]["zones"]["before"] == []
    assert events[-1]["dwell_s"]["right"] > 0.5
    # 30 frames at 10 fps: updates limited to about one per second plus the zone change
    assert kinds.count("update") <= 5
    assert last(messages, f"{ROOT}/cam1/zone/right/person") == b"1"
    assert last(messages, f"{ROOT}/cam1/line/door/out") == b"1"
    assert last(messages, f"{ROOT}/cam1/line/door/in") == b"0"
    line = json.loads(last(messages, f"{ROOT}/cam1/line/door/count"))
    assert (line["in"], line["out"]) == (0, 1)
    state = json.loads((tmp_path / "state" / "counting.json").read_text())
    assert state["cameras"]["cam1"]["zones"]["right"]["current"] == 1


def test_restart_publishes_restored_counts_not_zero(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    run_stage(tmp_path, broker, [walker(k) for k in range(30)])
    # Restart: during warm-up nobody is confirmed yet, yet the count stays 1 (restored).
    frames = [walker(29)]
    messages = run_stage(tmp_path, broker, frames, warmup_s=60.0, min_hits=3)
    counts = [m.payload for m in messages if m.topic == f"{ROOT}/cam1/zone/right/person"]
    assert counts and all(c == b"1" for c in counts), counts
    doc = json.loads(last(messages, f"{ROOT}/cam1/zone/right/count"))
    assert doc["restored"] is True and doc["count"] == 1
    line = json.loads(last(messages, f"{ROOT}/cam1/line/door/count"))
    assert (line["in"], line["out"]) == (0, 1)


def test_runs_on_a_real_clip(tmp_path: Path, broker: MosquittoBroker) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 320, 240, 10.0, 1.5)
    capture = cv2.VideoCapture(str(clip))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(Frame("cam1", len(frames) + 1, 1000.0 + len(frames) / 10.0,
                            len(frames) / 10.0, image))
    capture.release()
    assert len(frames) >= 10
    messages = run_stage(tmp_path, broker, frames)
    tracks = [json.loads(m.payload) for m in messages if m.topic.endswith("/track")]
    assert tracks and all(t["standin"] for t in tracks)
