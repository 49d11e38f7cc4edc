"""Configuration loading: every bad field is named with its path and a fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest

from edge_agent.errors import ConfigError, ExitCode
from edge_agent.service.startup_checks import check_file
from edge_agent.settings import AgentSettings
from edge_agent.settings.config_file import ConfigInvalid, format_loc, load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "agent.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.cameras[0].id == "lobby"
    assert [zone.name for zone in settings.cameras[0].zones] == ["entrance", "counter"]


def _leaf_paths(schema: Dict[str, Any], defs: Dict[str, Any], prefix: str) -> List[str]:
    paths = []
    for name, prop in schema.get("properties", {}).items():
        ref = prop.get("$ref") or (prop.get("items") or {}).get("$ref")
        if ref:
            paths += _leaf_paths(defs[ref.split("/")[-1]], defs, f"{prefix}{name}.")
        else:
            paths.append(prefix + name)
    return paths


def test_example_config_documents_every_field() -> None:
    """deploy/agent.example.toml must mention every setting the schema has."""
    schema = AgentSettings.model_json_schema()
    text = EXAMPLE.read_text(encoding="utf-8")
    missing = [
        path
        for path in _leaf_paths(schema, schema.get("$defs", {}), "")
        if f"{path.split('.')[-1]} =" not in text
    ]
    assert missing == []


def test_every_field_has_a_description() -> None:
    schema = AgentSettings.model_json_schema()
    undocumented = [
        f"{model}.{name}"
        for model, body in [("AgentSettings", schema), *schema["$defs"].items()]
        for name, prop in body.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert undocumented == []


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml")
    assert "does not exist" in caught.value.problem
    assert "agent.example.toml" in caught.value.fix
    assert caught.value.exit_code == ExitCode.CONFIG


def test_toml_syntax_error_names_position(tmp_path: Path) -> None:
    path = write(tmp_path, "[mqtt]\nport = \n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "not valid TOML" in caught.value.problem
    assert "line 2" in caught.value.problem


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("[mqtt]\nport = 70000\n", "mqtt.port", "EDGE_AGENT_MQTT__PORT"),
        ("[mqtt]\nprot = 1\n", "mqtt.prot", "valid here"),
        ('[mqtt]\ntopic_prefix = "a/b"\n', "mqtt.topic_prefix", "one topic level"),
        (
            '[[cameras]]\nid = "c"\nurl = "x.avi"\n[[cameras.zones]]\nname = "z"\n'
            "polygon = [[0, 0], [2, 0], [1, 1]]\n",
            "cameras[0].zones[0].polygon",
            "normalized",
        ),
        (
            '[[cameras]]\nid = "c"\nurl = "x.avi"\n[[cameras]]\nid = "c"\nurl = "y.avi"\n',
            "(top level)",
            "unique",
        ),
        ('[models.semseg]\nvariant = "big"\n', "models.semseg.variant", "shuffleseg"),
        ('[device]\nid = "has space"\n', "device.id", "letters"),
        ('[mqtt]\npassword = "x"\n', "mqtt", "username"),
        ('[[cameras]]\nid = "c"\nurl = "gopher://x"\n', "cameras[0].url", "rtsp://"),
        ('[[cameras]]\nid = "c"\nurl = "csi://0"\n', "cameras[0].url", "jetson"),
    ],
)
def test_invalid_fields_are_named(tmp_path: Path, text: str, path: str, words: str) -> None:
    problems = check_file(write(tmp_path, text))
    assert problems, "expected a problem"
    rendered = "\n".join(p.render() for p in problems)
    assert any(p.path == path for p in problems), rendered
    assert words in rendered


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "[mqtt]\nport = 0\nkeepalive_s = 1\n")
    with pytest.raises(ConfigInvalid) as caught:
        load_settings(path)
    assert {p.path for p in caught.value.problems} == {"mqtt.port", "mqtt.keepalive_s"}


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[mqtt]\nhost = "file-host"\nport = 1884\n')
    monkeypatch.setenv("EDGE_AGENT_MQTT__HOST", "env-host")
    settings = load_settings(path)
    assert settings.mqtt.host == "env-host"
    assert settings.mqtt.port == 1884


def test_bad_environment_value_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_AGENT_MQTT__PORT", "not-a-number")
    with pytest.raises(ConfigInvalid) as caught:
        load_settings(write(tmp_path, ""))
    assert [p.path for p in caught.value.problems] == ["mqtt.port"]


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        ((), "(top level)"),
        (("mqtt", "port"), "mqtt.port"),
        (("cameras", 2, "url"), "cameras[2].url"),
    ],
)
def test_format_loc(loc: Any, text: str) -> None:
    assert format_loc(loc) == text
