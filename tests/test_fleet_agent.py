"""Fleet commands against a real running Agent (stand-in model, synthetic clip, real mosquitto)
through AgentCommandTarget: read the config, add a camera, and a camera change that validates
but never delivers frames is rolled back by the device itself."""

from __future__ import annotations

from pathlib import Path

from mosquitto_broker import MosquittoBroker

from edge_agent.agent.daemon import Agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.demo.local_broker import free_port
from edge_agent.fleet.agent_target import AgentHooks
from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.device_side import build_fleet_service
from edge_agent.fleet.paho_link import LinkOptions, PahoLink
from edge_agent.models.standin import write_standin
from edge_agent.powermode import REQUEST_NAME
from edge_agent.settings.config_file import load_settings
from edge_agent.settings.fleet import FleetSettings

SUPER_CONF = Path(__file__).parent / "fixtures" / "power_mode" / "orin_nano_super_nvpmodel.conf"


def _config(tmp_path: Path, port: int, clip: Path) -> Path:
    models = tmp_path / "models"
    write_standin("peoplesemsegnet_shuffleseg", models)
    path = tmp_path / "agent.toml"
    path.write_text(f"""
[device]
id = "fleet-dev"
[[cameras]]
id = "cam1"
url = "{clip}"
max_fps = 8
[models]
dir = "{models}"
threads = 1
[models.semseg]
rate_hz = 4
mask_width = 48
mask_height = 27
[mqtt]
port = {port}
[fleet]
enabled = false  # this test runs its own receiver on a second connection
""", encoding="utf-8")
    return path


def test_agent_commands_and_automatic_rollback(tmp_path: Path, broker: MosquittoBroker) -> None:
    clip = tmp_path / "clip.avi"
    write_synthetic_clip(clip, width=160, height=120, fps=10, seconds=1.0)
    settings = load_settings(_config(tmp_path, broker.port, clip))
    agent = Agent(settings)
    agent.prepare()
    agent.start()
    link = PahoLink(LinkOptions(port=broker.port, client_id="fleet-dev-commands"))
    service = build_fleet_service(
        agent, settings, FleetSettings(site="lab", ledger_path=tmp_path / "ledger.sqlite"),
        link, lambda topic, payload: link.publish(topic, payload, retain=True),
        AgentHooks(device_root=tmp_path / "no-jetson", nvpmodel_conf=SUPER_CONF,
                   power_request_dir=tmp_path / "power-mode"),
    )
    tool = FleetClient(LinkOptions(port=broker.port, client_id="tool", session_expiry_s=0))
    try:
        service.start()
        link.start()
        service.publish_card()
        tool.start()
        assert tool.wait_devices(expected=1, timeout_s=15) == 1
        assert tool.devices()["fleet-dev"].card.site == "lab"  # type: ignore[union-attr]

        got = tool.send("get_config", {"sections": ["cameras"]}, devices=["fleet-dev"])
        assert tool.wait(got, 15) == []
        result = got.final("fleet-dev").result  # type: ignore[union-attr]
        assert [c["id"] for c in result["config"]["cameras"]] == ["cam1"]

        dead = f"rtsp://127.0.0.1:{free_port()}/nothing-listens"
        broken = tool.send("update_camera", {"camera": {"id": "cam1", "url": dead},
                                             "health_timeout_s": 4.0}, devices=["fleet-dev"])
        assert tool.wait(broken, 60) == []
        reply = broken.final("fleet-dev")
        assert reply is not None and (reply.state, reply.code) == ("failed", "rolled_back")
        assert "cameras[cam1]" in reply.reason
        assert [c.url for c in agent_cameras(agent)] == [str(clip)]  # cam1 restored

        power = tool.send("set_power_mode", {"mode": "0"}, devices=["fleet-dev"])
        nonsense = tool.send("set_power_mode", {"mode": "99"}, devices=["fleet-dev"])
        assert tool.wait(power, 15) == [] and tool.wait(nonsense, 15) == []
        assert power.final("fleet-dev").state == "done"  # type: ignore[union-attr]
        assert (tmp_path / "power-mode" / REQUEST_NAME).read_text().strip() == "0"
        assert nonsense.final("fleet-dev").state == "failed"  # type: ignore[union-attr]
        assert "99" in nonsense.final("fleet-dev").reason  # type: ignore[union-attr]

        added = tool.send("add_camera", {"camera": {"id": "cam2", "url": str(clip),
                                                    "max_fps": 8}, "health_timeout_s": 30.0},
                          devices=["fleet-dev"])
        assert tool.wait(added, 60) == []
        assert added.final("fleet-dev").state == "done", added.final("fleet-dev")  # type: ignore[union-attr]
        assert sorted(p.camera_id for p in agent.camera_progress()) == ["cam1", "cam2"]
    finally:
        tool.stop()
        service.stop()
        link.stop()
        agent.stop(5.0)


def agent_cameras(agent: Agent) -> list:  # type: ignore[type-arg]
    """The cameras the agent runs now (public worker list)."""
    return [worker.camera for worker in agent.camera_workers()]
