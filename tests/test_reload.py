"""SIGHUP reload: what applies live, what waits for a restart, and a live camera swap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Subscriber

from edge_agent.agent.daemon import Agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.models.standin import write_standin
from edge_agent.service.reload import plan_reload, reload_from_file
from edge_agent.settings import AgentSettings


def settings(**sections: Any) -> AgentSettings:
    data: Dict[str, Any] = {"cameras": [{"id": "a", "url": "/dev/video0"}]}
    data.update(sections)
    return AgentSettings(**data)


def test_identical_config_changes_nothing() -> None:
    plan = plan_reload(settings(), settings())
    assert plan.live == [] and plan.restart_required == [] and not plan.pipeline_changed


def test_cameras_rates_zones_apply_live() -> None:
    new = settings(
        cameras=[
            {
                "id": "b",
                "url": "rtsp://cam/1",
                "zones": [{"name": "z", "polygon": [[0, 0], [1, 0], [1, 1]]}],
            }
        ],
        models={"semseg": {"rate_hz": 5.0, "mask_width": 64}},
        logging={"level": "DEBUG"},
    )
    plan = plan_reload(settings(), new)
    assert plan.live == ["cameras", "models.semseg.rate_hz", "models.semseg.mask_width", "logging"]
    assert plan.restart_required == []
    assert plan.pipeline_changed
    assert plan.effective.cameras[0].id == "b"
    assert plan.effective.models.semseg.rate_hz == 5.0


def test_connection_and_engine_settings_wait_for_restart() -> None:
    old = settings()
    new = settings(
        mqtt={"host": "broker.example", "topic_prefix": "other"},
        device={"id": "box-2"},
        models={"threads": 3, "semseg": {"variant": "vanilla_unet", "rate_hz": 1.0}},
    )
    plan = plan_reload(old, new)
    expected = {"mqtt", "device", "models.threads", "models.semseg.variant"}
    assert set(plan.restart_required) == expected
    assert plan.live == ["models.semseg.rate_hz"]
    # The running values stay in force until a restart; the live one is taken.
    assert plan.effective.mqtt == old.mqtt
    assert plan.effective.device == old.device
    assert plan.effective.models.threads == old.models.threads
    assert plan.effective.models.semseg.variant == old.models.semseg.variant
    assert plan.effective.models.semseg.rate_hz == 1.0


def _config(tmp_path: Path, port: int, cameras: str) -> Path:
    models = tmp_path / "models"
    if not models.exists():
        write_standin("peoplesemsegnet_shuffleseg", models)
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
[device]
id = "reload-dev"
{cameras}
[models]
dir = "{models}"
threads = 1
[models.semseg]
rate_hz = 4
mask_width = 48
mask_height = 27
[mqtt]
port = {port}
""",
        encoding="utf-8",
    )
    return path


def _camera(camera_id: str, clip: Path) -> str:
    return f'[[cameras]]\nid = "{camera_id}"\nurl = "{clip}"\nmax_fps = 8\n'


def test_live_camera_swap_keeps_the_mqtt_session(tmp_path: Path, broker: MosquittoBroker) -> None:
    clip = tmp_path / "clip.avi"
    write_synthetic_clip(clip, width=160, height=120, fps=10, seconds=1.0)
    from edge_agent.settings.config_file import load_settings

    path = _config(tmp_path, broker.port, _camera("cam1", clip))
    agent = Agent(load_settings(path))
    agent.prepare()
    with Subscriber(broker.port, ["edge-agent/reload-dev/#"]) as subscriber:
        agent.start()
        try:
            subscriber.wait_for(lambda m: m.topic.endswith("cam1/mask"), timeout_s=30)
            # Bad inputs are refused and change nothing.
            _config(tmp_path, broker.port, _camera("cam9", tmp_path / "missing.avi"))
            outcome = reload_from_file(agent, path)
            assert outcome.plan is None and "missing.avi" in outcome.error
            with pytest.raises(ConfigError):
                disabled = {"id": "x", "url": "/dev/video0", "enabled": False}
                agent.reload(settings(cameras=[disabled]))
            with pytest.raises(InputNotFoundError):
                agent.reload(settings(cameras=[{"id": "x", "url": str(tmp_path / "nope.avi")}]))
            assert [p.camera_id for p in agent.camera_progress()] == ["cam1"]
            # A good config swaps cameras live.
            _config(tmp_path, broker.port, _camera("cam2", clip))
            outcome = reload_from_file(agent, path)
            assert outcome.plan is not None and outcome.plan.live == ["cameras"]
            marker = len(subscriber.messages())
            subscriber.wait_for(lambda m: m.topic.endswith("cam2/mask"), timeout_s=30)
            assert [p.camera_id for p in agent.camera_progress()] == ["cam2"]
        finally:
            agent.stop(5.0)
        messages = subscriber.messages()
    statuses = [json.loads(m.payload) for m in messages if m.topic.endswith("/status")]
    online = [status for status in statuses if status["state"] == "online"]
    assert len(online) == 1, "the reload reconnected to the broker"
    after = [m.topic for m in messages[marker:] if m.topic.endswith("/mask")]
    first_cam2 = next(i for i, topic in enumerate(after) if "/cam2/" in topic)
    assert all("/cam2/" in topic for topic in after[first_cam2:]), "cam1 stopped at the swap"
    seqs = [json.loads(m.payload)["seq"] for m in messages if m.topic.endswith("/mask")]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # one sequence across the swap
