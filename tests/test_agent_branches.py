"""Segmentation and tracking can each be switched off; the agent runs what is enabled."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Subscriber

from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.cli.main import main
from edge_agent.errors import ExitCode
from edge_agent.models.standin import write_standin
from edge_agent.service.console import StatusLine
from edge_agent.settings.config_file import load_settings


def config(tmp_path: Path, port: int, semseg: bool, tracking: bool) -> Path:
    clip = write_synthetic_clip(tmp_path / "clip.avi", width=320, height=240, fps=10, seconds=1)
    models = tmp_path / "models"
    for name in ("peoplenet", "reidentificationnet"):
        write_standin(name, models)
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
[device]
id = "branch-dev"
[[cameras]]
id = "cam"
url = "{clip}"
on_eof = "loop"
max_fps = 10
[models]
dir = "{models}"
threads = 1
[models.semseg]
enabled = {str(semseg).lower()}
[models.tracking]
enabled = {str(tracking).lower()}
rate_hz = 20
state_dir = "{tmp_path / "state"}"
[mqtt]
port = {port}
[outbox]
path = "{tmp_path / "outbox.sqlite"}"
""",
        encoding="utf-8",
    )
    return path


def test_tracking_only(tmp_path: Path, broker: MosquittoBroker) -> None:
    settings = load_settings(config(tmp_path, broker.port, semseg=False, tracking=True))
    with Subscriber(broker.port, ["edge-agent/branch-dev/#"]) as subscriber:
        agent = run_agent(settings, StatusLine(sys.stderr, interactive=False), duration_s=3)
        subscriber.wait_for(lambda m: b'"stopped"' in m.payload, timeout_s=5)
        topics = [m.topic for m in subscriber.messages()]
    assert not any(t.endswith("/mask") for t in topics)
    tracks = [t for t in topics if t.endswith("/track")]
    assert tracks, topics
    assert agent.snapshot().events_published >= len(tracks)
    assert "inference" not in agent.snapshot().stage_ms


def test_nothing_enabled_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config(tmp_path, 1, semseg=False, tracking=False)
    assert main(["run", "--config", str(path)]) == ExitCode.CONFIG
    assert "nothing would run" in capsys.readouterr().err


def test_both_branches_publish(tmp_path: Path, broker: MosquittoBroker) -> None:
    """Both branches on: masks and tracks arrive from the same frames' cameras."""
    settings = load_settings(config(tmp_path, broker.port, semseg=True, tracking=True))
    write_standin("peoplesemsegnet_shuffleseg", tmp_path / "models")
    with Subscriber(broker.port, ["edge-agent/branch-dev/#"]) as subscriber:
        run_agent(settings, StatusLine(sys.stderr, interactive=False), duration_s=3)
        stopped = subscriber.wait_for(lambda m: b'"stopped"' in m.payload, timeout_s=5)
        topics = {m.topic.rsplit("/", 1)[-1] for m in subscriber.messages()}
    assert {"mask", "track"} <= topics
    assert json.loads(stopped.payload)["state"] == "stopped"
