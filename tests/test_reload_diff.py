"""Reload as a diff, with tracking on: only the changed cameras are touched.

A real agent on stand-in models and a real broker: cam1 keeps running untouched while cam2
is removed and cam3 added; no model is loaded again; Home Assistant discovery gains cam3's
sensors and loses cam2's (empty retained configs); cam1's retained counts are not re-sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Received, Subscriber

from edge_agent.agent.daemon import Agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.models.standin import write_standin
from edge_agent.settings.config_file import load_settings

DEVICE = "diff-dev"
ROOT = f"edge-agent/{DEVICE}"


def camera(camera_id: str, clip: Path) -> str:
    return f"""
[[cameras]]
id = "{camera_id}"
url = "{clip}"
max_fps = 10
[[cameras.zones]]
name = "left"
polygon = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
"""


def write_config(tmp_path: Path, port: int, cameras: str) -> Path:
    models = tmp_path / "models"
    if not models.exists():
        for name in ("peoplesemsegnet_shuffleseg", "peoplenet", "reidentificationnet"):
            write_standin(name, models)
    path = tmp_path / "agent.toml"
    path.write_text(f"""
[device]
id = "{DEVICE}"
{cameras}
[models]
dir = "{models}"
threads = 1
[models.semseg]
rate_hz = 4
mask_width = 48
mask_height = 27
[models.tracking]
enabled = true
rate_hz = 4
warmup_s = 0.0
state_dir = "{tmp_path / 'state'}"
[mqtt]
port = {port}
ha_discovery = true
""", encoding="utf-8")
    return path


def test_camera_added_and_removed_touches_only_them(tmp_path: Path,
                                                    broker: MosquittoBroker) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 160, 120, 10, 2.0)
    path = write_config(tmp_path, broker.port, camera("cam1", clip) + camera("cam2", clip))
    agent = Agent(load_settings(path))
    agent.prepare()
    with Subscriber(broker.port, [f"{ROOT}/#", "homeassistant/#"]) as sub:
        agent.start()
        try:
            sub.wait_for(lambda m: m.topic.endswith("cam2/track") or
                         m.topic.endswith("cam2/mask"), timeout_s=30)
            loads = agent.registry.loads
            cam1 = {w.camera_id: w for w in agent.camera_workers()}["cam1"]
            write_config(tmp_path, broker.port, camera("cam1", clip) + camera("cam3", clip))
            plan = agent.reload(load_settings(path))
            assert plan.live == ["cameras"]
            marker = len(sub.messages())
            cam1_masks = len([m for m in sub.messages() if m.topic.endswith("cam1/mask")])
            sub.wait_for(lambda m: m.topic.endswith("cam3/mask"), timeout_s=30)
            sub.wait_count(lambda m: m.topic.endswith("cam1/mask"), cam1_masks + 3, timeout_s=30)
            workers = {w.camera_id: w for w in agent.camera_workers()}
            assert sorted(workers) == ["cam1", "cam3"]
            assert workers["cam1"] is cam1 and cam1.alive(), "cam1 was not restarted"
            assert agent.registry.loads == loads, "no model was loaded again"
            assert sorted(t.name for t in agent.tasks) == ["peoplenet", "reid", "semseg"]
            assert all(t.cameras == frozenset({"cam1", "cam3"}) for t in agent.tasks)
        finally:
            agent.stop(5.0)
        messages = sub.messages()
    after = messages[marker:]
    ha = [m for m in after if m.topic.startswith("homeassistant/")]
    removed = [m for m in ha if "cam2" in m.topic]
    added = [m for m in ha if "cam3" in m.topic]
    assert removed and all(m.payload == b"" for m in removed), "cam2's sensors removed"
    assert added and all(json.loads(m.payload)["unique_id"] for m in added)
    kinds = [json.loads(m.payload)["type"] for m in messages if m.topic == f"{ROOT}/cam2/track"]
    if "end" in kinds:  # cam2's tracks ended at the removal, and nothing came after
        assert all(kind == "end" for kind in kinds[kinds.index("end"):]), kinds
    assert no_repeats(messages, f"{ROOT}/cam1/zone/left/count")


def no_repeats(messages: List[Received], topic: str) -> bool:
    """Retained counts go out on change only: a repeat would mean a reload republished."""
    values = [(doc["count"], doc["active"]) for doc in
              (json.loads(m.payload) for m in messages if m.topic == topic)]
    return bool(values) and all(a != b for a, b in zip(values, values[1:]))
