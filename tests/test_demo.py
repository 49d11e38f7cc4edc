"""The demo command end to end on a small clip: private broker, stand-in model, PNG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.cli.main import main
from edge_agent.errors import ExitCode


def test_demo_runs_and_renders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", width=320, height=240, fps=10, seconds=2)
    code = main(
        ["demo", "--workdir", str(tmp_path / "demo"), "--duration-s", "3", "--clip", str(clip)]
    )
    err = capsys.readouterr().err
    assert code == ExitCode.OK, err
    assert "started a private mosquitto" in err
    assert "/mask seq=" in err and "STAND-IN" in err
    assert "/track new id=" in err and "/zone/left_half/person" in err
    assert "track events" in err
    png = cv2.imread(str(tmp_path / "demo" / "last_mask.png"))
    assert png is not None and png.shape == (240, 320, 3)
    assert (tmp_path / "demo" / "agent.toml").is_file()


def test_demo_rejects_bad_clip_and_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = ["demo", "--workdir", str(tmp_path), "--clip", str(tmp_path / "none.avi")]
    assert main(missing) == ExitCode.NO_INPUT
    clip = write_synthetic_clip(tmp_path / "c.avi", width=64, height=48, fps=5, seconds=0.4)
    bad_broker = ["demo", "--workdir", str(tmp_path), "--clip", str(clip), "--broker", "nope"]
    assert main(bad_broker) == ExitCode.USAGE  # refused before any download or model write
    assert "HOST:PORT" in capsys.readouterr().err


def test_the_picture_label_fits_a_small_frame() -> None:
    from edge_agent.demo.render import _text_width, draw_label, fit_lines

    parts = ["seq 12 people 3.4%", "2 tracks (frame 40, mask frame 41)", "(STAND-IN model)"]
    lines = fit_lines(parts, 700, 0.7)
    assert len(lines) == 2 and lines[-1] == "(STAND-IN model)"
    assert all(_text_width(line, 0.7, 2) <= 700 for line in lines)
    image = np.zeros((240, 320, 3), np.uint8)
    draw_label(image, parts)
    red = image[:, :, 2] > 200
    assert red.any() and not red[:, 312:].any(), "text reaches the right edge"


def test_demo_serves_the_dashboard_while_it_runs(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time
    import urllib.request

    from mosquitto_broker import free_port

    clip = write_synthetic_clip(tmp_path / "clip.avi", width=160, height=120, fps=10, seconds=1)
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "demo", "--workdir", str(tmp_path / "demo"),
         "--duration-s", "8", "--clip", str(clip), "--dashboard", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    page = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and demo.poll() is None and not page:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                page = response.read().decode("utf-8", "replace")
        except OSError:
            time.sleep(0.2)
    output, _ = demo.communicate(timeout=120)
    assert demo.returncode == ExitCode.OK, output
    assert f"dashboard: open http://127.0.0.1:{port}/" in output
    assert "<html" in page.lower(), "the page was not served while the demo ran"
