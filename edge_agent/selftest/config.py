"""The config a selftest runs with when the user gives none: sample clip, local broker."""

from __future__ import annotations

from pathlib import Path


def selftest_config(clip: Path, models_dir: Path, workdir: Path, host: str, port: int,
                    backend: str, engine_dir: Path) -> str:
    """TOML for one camera on the (looping) sample clip with segmentation and tracking on;
    variant and rate follow the device profile ('auto')."""
    return f"""# Written by `edge-agent selftest`; rerun the agent alone with:
#   edge-agent run --config {workdir / "agent.toml"}
[device]
id = "selftest"

[[cameras]]
id = "sample"
url = "{clip}"
on_eof = "loop"
max_fps = 15

[[cameras.zones]]
name = "left_half"
polygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]

[models]
dir = "{models_dir}"
backend = "{backend}"
engine_dir = "{engine_dir}"

[models.semseg]
variant = "auto"
rate_hz = "auto"

[models.tracking]
enabled = true
rate_hz = 5.0
state_dir = "{workdir / "state"}"

[mqtt]
host = "{host}"
port = {port}

[outbox]
path = "{workdir / "outbox.sqlite"}"

[logging]
level = "WARNING"
stats_interval_s = 0
"""
