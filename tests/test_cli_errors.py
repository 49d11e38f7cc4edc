"""Bad input ends in one clear message and a documented exit code, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from edge_agent.cli.main import main
from edge_agent.errors import ExitCode
from edge_agent.models.standin import write_standin


def config_text(url: str, models: Path, extra: str = "") -> str:
    return (
        f'[device]\nid = "d"\n[[cameras]]\nid = "c"\nurl = "{url}"\n'
        f'[models]\ndir = "{models}"\n[mqtt]\nport = 1\nconnect_timeout_s = 0.1\n{extra}'
    )


def run_cli(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["run", "--config", str(path)])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_missing_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(tmp_path, config_text(str(tmp_path / "none.avi"), tmp_path), capsys)
    assert code == ExitCode.NO_INPUT
    assert "none.avi" in out and "fix:" in out


def test_unreadable_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "bogus.avi"
    bogus.write_bytes(b"this is not a video")
    code, out = run_cli(tmp_path, config_text(str(bogus), tmp_path), capsys)
    assert code == ExitCode.NO_INPUT
    assert "bogus.avi" in out


def test_unknown_url_scheme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(tmp_path, config_text("gopher://cam", tmp_path), capsys)
    assert code == ExitCode.CONFIG
    assert "cameras[0].url" in out and "gopher" in out


def test_malformed_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(tmp_path, "[mqtt\nport = 1\n", capsys)
    assert code == ExitCode.CONFIG
    assert "not valid TOML" in out


def test_missing_model_names_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge_agent.capture.sample_footage import write_synthetic_clip

    clip = tmp_path / "clip.avi"
    write_synthetic_clip(clip, width=64, height=48, fps=5, seconds=0.4)
    code, out = run_cli(tmp_path, config_text(str(clip), tmp_path / "models"), capsys)
    assert code == ExitCode.NO_INPUT
    assert "edge-agent models standin peoplesemsegnet_shuffleseg" in out


def test_model_with_wrong_tensors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A vanilla UNet file renamed to ShuffleSeg has input `input_1:0`, not `input_2:0`."""
    from edge_agent.capture.sample_footage import write_synthetic_clip

    clip = tmp_path / "clip.avi"
    write_synthetic_clip(clip, width=64, height=48, fps=5, seconds=0.4)
    models = tmp_path / "models"
    vanilla = write_standin("peoplesemsegnet_vanilla_unet", models)
    target = models / "peoplesemsegnet_shuffleseg.onnx"
    model = onnx.load(str(vanilla))
    onnx.save(model, str(target))
    sidecar = json.loads((models / "peoplesemsegnet_vanilla_unet.manifest.json").read_text())
    import hashlib

    sidecar["name"] = "peoplesemsegnet_shuffleseg"
    sidecar["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    (models / "peoplesemsegnet_shuffleseg.manifest.json").write_text(json.dumps(sidecar))
    code, out = run_cli(tmp_path, config_text(str(clip), models), capsys)
    assert code == ExitCode.DATA, out
    assert "input_2:0" in out


def test_config_check_lists_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[mqtt]\nport = 0\n[logging]\nlevel = \"LOUD\"\n", encoding="utf-8")
    assert main(["config", "check", str(path)]) == ExitCode.CONFIG
    out = capsys.readouterr().out
    assert "mqtt.port" in out and "logging.level" in out and "fix:" in out


def test_config_check_ok_and_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[1] / "deploy" / "agent.example.toml"
    # As `run` would: the example's models folder is empty on this machine.
    assert main(["config", "check", str(example)]) == ExitCode.CONFIG
    out = capsys.readouterr().out
    assert "1 problem(s)" in out and "peoplesemsegnet_shuffleseg.onnx does not exist" in out
    assert "line 71" in out and "edge-agent models standin" in out
    write_standin("peoplesemsegnet_shuffleseg", tmp_path)
    monkeypatch.setenv("EDGE_AGENT_MODELS__DIR", str(tmp_path))
    assert main(["config", "check", str(example)]) == ExitCode.OK
    assert main(["config", "schema"]) == ExitCode.OK
    schema = json.loads(capsys.readouterr().out.split("OK\n", 1)[1])
    assert "mqtt" in schema["properties"]


def test_usage_errors() -> None:
    assert main([]) == ExitCode.USAGE
    assert main(["run", "--bogus"]) == ExitCode.USAGE


def test_unknown_standin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "standin", "nonesuch", "--out", str(tmp_path)]) == ExitCode.CONFIG
    assert "peoplenet" in capsys.readouterr().err


def test_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(config_text(str(tmp_path / "none.avi"), tmp_path), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == ExitCode.NO_INPUT
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: ")


def test_tracking_model_with_wrong_tensors_stops_before_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ReID file saved as PeopleNet is refused in prepare(): nothing starts, exit 65."""
    from edge_agent.capture.sample_footage import write_synthetic_clip

    clip = tmp_path / "clip.avi"
    write_synthetic_clip(clip, width=64, height=48, fps=5, seconds=0.4)
    models = tmp_path / "models"
    write_standin("peoplesemsegnet_shuffleseg", models)
    write_standin("reidentificationnet", models)
    reid = models / "reidentificationnet.onnx"
    target = models / "peoplenet.onnx"
    target.write_bytes(reid.read_bytes())
    sidecar = json.loads((models / "reidentificationnet.manifest.json").read_text())
    sidecar["name"] = "peoplenet"
    (models / "peoplenet.manifest.json").write_text(json.dumps(sidecar))
    extra = f'[models.tracking]\nenabled = true\nstate_dir = "{tmp_path / "state"}"\n'
    code, out = run_cli(tmp_path, config_text(str(clip), models, extra=extra), capsys)
    assert code == ExitCode.DATA, out
    assert "input_1:0" in out
    assert "running as device" not in out


def test_a_fleet_device_runs_without_the_onnx_package(tmp_path: Path) -> None:
    """onnx is an extra (stand-ins, calibration): the agent and its checks never import it,
    and the commands that need it say how to install it."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['onnx'] = None\n"  # as if not installed
        "import edge_agent.agent.daemon, edge_agent.models.fetch, edge_agent.service.doctor\n"
        "from edge_agent.cli.main import main\n"
        "assert main(['models', 'list']) == 0\n"
        f"sys.exit(main(['models', 'standin', 'peoplenet', '--out', {str(tmp_path)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert "edge-agent[standin]" in result.stderr and "Traceback" not in result.stderr
