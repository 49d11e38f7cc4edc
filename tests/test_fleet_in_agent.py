"""The agent's own fleet receiver (on its MQTT session, fleet.enabled): the device card, a
command answered over the documented reply topic, a rebirth, and a restart that ends the run
with exit 75 so systemd starts the agent again."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import List

from mosquitto_broker import MosquittoBroker
from mqtt_subscriber import Subscriber

from edge_agent.agent.daemon import Agent
from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.errors import ExitCode
from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.paho_link import LinkOptions
from edge_agent.models.standin import write_standin
from edge_agent.service.console import StatusLine
from edge_agent.settings.config_file import load_settings


def config(tmp_path: Path, port: int) -> Path:
    models = tmp_path / "models"
    write_standin("peoplesemsegnet_shuffleseg", models)
    clip = write_synthetic_clip(tmp_path / "clip.avi", 160, 120, 10, 1.0)
    path = tmp_path / "agent.toml"
    path.write_text(f"""
[device]
id = "own-dev"
[[cameras]]
id = "cam1"
url = "{clip}"
max_fps = 8
[[cameras.zones]]
name = "left"
polygon = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
[models]
dir = "{models}"
threads = 1
[mqtt]
port = {port}
ha_discovery = true
[fleet]
site = "lab"
""", encoding="utf-8")
    return path


def test_the_agent_answers_fleet_commands_on_its_own_session(
        tmp_path: Path, broker: MosquittoBroker) -> None:
    settings = load_settings(config(tmp_path, broker.port))
    agent = Agent(settings)
    stop = threading.Event()
    outcome: List[Agent] = []
    runner = threading.Thread(
        target=lambda: outcome.append(run_agent(
            settings, StatusLine(sys.stderr, interactive=False), stop_event=stop, agent=agent)),
        name="test-runner")
    tool = FleetClient(LinkOptions(port=broker.port, client_id="tool", session_expiry_s=0))
    with Subscriber(broker.port, ["homeassistant/#"]) as ha:
        runner.start()
        try:
            tool.start()
            assert tool.wait_devices(expected=1, timeout_s=20) == 1
            assert tool.devices()["own-dev"].card.site == "lab"  # type: ignore[union-attr]
            ping = tool.send("ping", {}, devices=["own-dev"])
            assert tool.wait(ping, 20) == []
            assert ping.final("own-dev").state == "done"  # type: ignore[union-attr]
            configs = len(ha.messages())
            rebirth = tool.send("rebirth", {}, devices=["own-dev"])
            assert tool.wait(rebirth, 20) == []
            assert rebirth.final("own-dev").state == "done"  # type: ignore[union-attr]
            ha.wait_count(lambda m: m.topic.endswith("/config"), configs + 2, timeout_s=10)
            restart = tool.send("restart", {"delay_s": 0.2}, devices=["own-dev"])
            assert tool.wait(restart, 20) == []
            runner.join(20.0)
            assert not runner.is_alive(), "the restart command did not end the run"
            assert outcome and outcome[0].restart_requested.is_set()
        finally:
            stop.set()
            runner.join(15.0)
            tool.stop()
    assert int(ExitCode.RESTART) == 75
