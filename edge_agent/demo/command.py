"""`edge-agent demo`: the whole path on a fresh machine, no camera, GPU or broker needed.

Fetches the sample clip, writes stand-in models (segmentation, PeopleNet, ReID), starts a
private Mosquitto (unless --broker is given), writes an ordinary config file into the work
folder (so the user can rerun it with `edge-agent run --config`), runs the agent with people
tracking on, and prints every event a real MQTT subscriber receives: masks, track events,
zone counts and line counters. Finally it renders the last mask and the last tracks (boxes
with ids) over the frame to a PNG.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import SampleClip, ensure_sample
from edge_agent.demo.local_broker import LocalBroker
from edge_agent.demo.render import render_last_mask
from edge_agent.demo.subscriber import EventPrinter
from edge_agent.errors import ConfigError, ExitCode
from edge_agent.models.fetch import fetch_or_standin
from edge_agent.models.standin import write_standin
from edge_agent.service.console import configure_logging
from edge_agent.settings.config_file import load_settings

DEMO_MODEL = "peoplesemsegnet_shuffleseg"
TRACKING_MODELS = ("peoplenet", "reidentificationnet")


def _say(text: str) -> None:
    print(f"[demo] {text}", file=sys.stderr, flush=True)


def demo_config(clip: Path, models_dir: Path, host: str, port: int) -> str:
    """The TOML config the demo runs with; written out so users can reuse it."""
    return f"""# Written by `edge-agent demo`. Run it again with:
#   edge-agent run --config {models_dir.parent / "agent.toml"}
[device]
id = "demo-device"
name = "edge-agent demo"

[[cameras]]
id = "sample"
url = "{clip}"
on_eof = "loop"
max_fps = 15

[[cameras.zones]]
name = "left_half"
polygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]

[[cameras.zones]]
name = "right_half"
polygon = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]

[[cameras.lines]]
name = "middle"
start = [0.5, 0.0]
end = [0.5, 1.0]

[models]
dir = "{models_dir}"

[models.semseg]
variant = "shuffleseg"
rate_hz = 4.0
mask_width = 240
mask_height = 136

[models.tracking]
enabled = true
rate_hz = 5.0
state_dir = "{models_dir.parent / "state"}"

[mqtt]
host = "{host}"
port = {port}
topic_prefix = "edge-agent"

[outbox]
path = "{models_dir.parent / "outbox.sqlite"}"

[fleet]
ledger_path = "{models_dir.parent / "fleet-ledger.sqlite"}"

[logging]
level = "INFO"
stats_interval_s = 2.0
"""


def preflight_clip(path: Path) -> None:
    """Refuse a --clip that OpenCV cannot read, before starting anything."""
    from edge_agent.capture.preflight import preflight
    from edge_agent.settings import CameraSettings

    preflight(CameraSettings(id="sample", url=str(path)))


def _parse_broker(value: str) -> List[Any]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--broker {value!r} is not HOST:PORT", "e.g. --broker 127.0.0.1:1883")
    return [host, int(port)]


def run_demo(
    workdir: Path, duration_s: float, broker: str, clip_path: Optional[Path] = None,
    models: str = "standin", dashboard: str = "",
) -> int:
    """Run the demo; returns the exit code."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if clip_path is not None:
        preflight_clip(clip_path)
        clip = SampleClip(clip_path.resolve(), False, "given with --clip")
    else:
        clip = ensure_sample(workdir / "footage", log=_say)
    if clip.synthetic:
        _say(f"using a SYNTHETIC clip ({clip.source}); figures are not from real footage")
    else:
        _say(f"sample clip: {clip.path} ({clip.source})")
    models_dir = workdir / "models"
    names = [DEMO_MODEL, *TRACKING_MODELS]
    if models == "ngc":
        # The real models where NGC answers (sha256 pinned on first download), else stand-ins.
        standins = fetch_or_standin(names, models_dir, _say)
        if standins:
            _say(f"stand-ins for {', '.join(standins)} (events from them say standin)")
    else:
        for name in names:
            write_standin(name, models_dir)
        _say(f"stand-in models written to {models_dir} (not NVIDIA's weights; events say "
             "standin; `--models ngc` downloads NVIDIA's where NGC is reachable)")
    local = None
    if broker:
        host, port = _parse_broker(broker)
    else:
        local = LocalBroker(workdir / "broker")
        local.start()
        host, port = "127.0.0.1", local.port
        _say(f"started a private mosquitto on {host}:{port}")
    try:
        config_path = workdir / "agent.toml"
        config_path.write_text(demo_config(clip.path, models_dir, host, port), encoding="utf-8")
        settings = load_settings(config_path)
        status = configure_logging(settings.logging.level)
        printer = EventPrinter(host, port, f"{settings.mqtt.topic_prefix}/#", _say)
        printer.start()
        stop_dashboard = None
        if dashboard:
            from edge_agent.dashboard.cli import start_dashboard

            url, stop_dashboard = start_dashboard(host, port, settings.mqtt.topic_prefix,
                                                  dashboard)
            _say(f"dashboard: open {url} while the agent runs")
        try:
            agent = run_agent(settings, status, duration_s=duration_s, stop_event=threading.Event())
        finally:
            printer.stop()
            if stop_dashboard is not None:
                stop_dashboard()
        last: Dict[str, Any] = printer.last_mask_event or {}
        _say(
            f"done: {printer.mask_events} mask events and {printer.track_events} track events "
            f"({len(printer.tracks)} people) received, device {agent.device_id}, config kept "
            f"at {config_path}"
        )
        if printer.counts:
            _say("last counts: " + ", ".join(f"{k} {v}" for k, v in sorted(printer.counts.items())))
        if last:
            png = render_last_mask(
                clip.path, last, workdir / "last_mask.png", printer.last_tracks()
            )
            _say(f"last mask rendered over its frame: {png}")
            _say("last event (mask counts shortened): " + json.dumps(_shorten(last)))
        return ExitCode.OK if printer.mask_events else ExitCode.FAILURE
    finally:
        if local is not None:
            local.stop()


def _shorten(event: Dict[str, Any]) -> Dict[str, Any]:
    mask = dict(event.get("mask", {}))
    counts = mask.get("counts", [])
    mask["counts"] = counts[:8] + ["..."] if len(counts) > 8 else counts
    text = str(mask.get("counts_str", ""))
    mask["counts_str"] = text[:24] + "..." if len(text) > 24 else text
    return {**event, "mask": mask}
