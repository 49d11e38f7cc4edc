"""`config check` finds what `run` would refuse, in one pass, naming where each value came from."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Iterator, List

import pytest

from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.cli.main import _build_parser, main
from edge_agent.errors import ExitCode
from edge_agent.models.standin import write_standin
from edge_agent.service.startup_checks import check_file
from edge_agent.settings.config_file import load_settings


def config(tmp_path: Path, body: str) -> Path:
    models = tmp_path / "models"
    if not models.exists():
        write_standin("peoplesemsegnet_shuffleseg", models)
    path = tmp_path / "agent.toml"
    path.write_text(f'[models]\ndir = "{models}"\n{body}', encoding="utf-8")
    return path


def test_what_run_refuses_is_reported_together_with_lines(tmp_path: Path) -> None:
    path = config(tmp_path, f"""
[[cameras]]
id = "door"
url = "{tmp_path / 'missing.avi'}"
[[cameras]]
id = "off"
url = "/dev/video0"
enabled = false
""")
    problems = check_file(path, environ={})
    rendered = "\n".join(p.render() for p in problems)
    assert [p.path for p in problems] == ["cameras[0].url"], rendered
    assert "missing.avi' does not exist" in problems[0].message
    assert problems[0].source == f"{path} line 6"


def test_no_enabled_camera_is_a_problem(tmp_path: Path) -> None:
    path = config(tmp_path, '[[cameras]]\nid = "a"\nurl = "/dev/video0"\nenabled = false\n')
    problems = check_file(path, environ={})
    assert [p.path for p in problems] == ["cameras"]
    assert "no enabled camera" in problems[0].message and "[[cameras]]" in problems[0].fix


def test_every_field_problem_in_one_pass(tmp_path: Path) -> None:
    path = config(tmp_path, """
[mqtt]
port = 70000
qos = 7
[[cameras]]
id = "bad id!"
""")
    problems = check_file(path, environ={})
    paths = sorted(p.path for p in problems)
    assert paths == ["cameras[0].id", "cameras[0].url", "mqtt.port", "mqtt.qos"]
    url = next(p for p in problems if p.path == "cameras[0].url")
    assert url.fix.startswith("add `url = ...`") and url.source == f"{path} line 7"


def test_a_value_from_the_environment_is_blamed_on_the_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = config(tmp_path, '[mqtt]\nport = 1883\n')
    monkeypatch.setenv("EDGE_AGENT_MQTT__PORT", "70000")
    problems = check_file(path)
    port = next(p for p in problems if p.path == "mqtt.port")
    assert port.source == "environment variable EDGE_AGENT_MQTT__PORT"


def test_list_items_are_overridden_one_by_one_from_the_environment(tmp_path: Path) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 64, 48, 5, 0.4)
    path = config(tmp_path, '[[cameras]]\nid = "a"\nurl = "/dev/video0"\n'
                            '[[cameras]]\nid = "b"\nurl = "/dev/video1"\n')
    env = {"EDGE_AGENT_CAMERAS__1__URL": str(clip), "EDGE_AGENT_CAMERAS__2__ID": "c",
           "EDGE_AGENT_CAMERAS__2__URL": str(clip)}
    settings = load_settings(path, env)
    assert [(c.id, c.url) for c in settings.cameras] == [
        ("a", "/dev/video0"), ("b", str(clip)), ("c", str(clip))]
    problems = check_file(path, environ={"EDGE_AGENT_CAMERAS__0__MAX_FPS": "-3"})
    fps = next(p for p in problems if p.path == "cameras[0].max_fps")
    assert fps.source == "environment variable EDGE_AGENT_CAMERAS__0__MAX_FPS"


def test_usage_errors_exit_64_before_any_work(tmp_path: Path) -> None:
    assert main(["config"]) == ExitCode.USAGE
    assert main(["models"]) == ExitCode.USAGE
    assert main(["run", "--duration-s", "-5"]) == ExitCode.USAGE
    assert main(["demo", "--workdir", str(tmp_path / "w"), "--broker", "nope"]) == ExitCode.USAGE
    assert not (tmp_path / "w").exists(), "nothing was written before the usage check"


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_option_has_help_and_shows_its_default() -> None:
    missing: List[str] = []
    for parser in _parsers(_build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction,
                                   argparse._VersionAction)):
                continue
            if not action.help:
                missing.append(f"{parser.prog} {'/'.join(action.option_strings) or action.dest}")
        assert isinstance(parser.formatter_class, type)
        assert issubclass(parser.formatter_class, argparse.ArgumentDefaultsHelpFormatter), (
            parser.prog)
    assert missing == []


def test_models_list_says_when_a_model_is_not_on_ngc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert ":\n" not in out and " :" not in out


def test_models_fetch_refuses_bad_arguments_before_any_download(tmp_path: Path) -> None:
    base = ["models", "fetch", "peoplenet", "--models-dir", str(tmp_path)]
    assert main([*base, "--url", "foo://x"]) == ExitCode.USAGE
    assert main([*base, "--sha256", "xyz"]) == ExitCode.USAGE
    assert not any(tmp_path.iterdir()), "nothing was written before the usage check"
