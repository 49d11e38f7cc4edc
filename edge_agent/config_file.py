"""Read the TOML configuration and turn every validation failure into field-named advice.

pydantic's own messages say what is wrong but not where the setting lives nor how to fix
it; users edit a TOML file or an environment variable, so each error here names the dotted
field path (`cameras[0].zones[1].polygon`), the environment variable that could also set it,
and the field's description, which is written as the fix.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type, Union

from pydantic import BaseModel, ValidationError

from edge_agent.errors import ConfigError
from edge_agent.settings import AgentSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

Loc = Tuple[Union[int, str], ...]


@dataclass(frozen=True)
class FieldProblem:
    """One invalid setting: where it is, what is wrong, and how to fix it."""

    path: str
    message: str
    fix: str

    def render(self) -> str:
        """One or two lines as `config check` prints them."""
        line = f"{self.path}: {self.message}"
        return f"{line}\n    fix: {self.fix}" if self.fix else line


def format_loc(loc: Sequence[Union[int, str]]) -> str:
    """('cameras', 0, 'zones', 1, 'polygon') -> 'cameras[0].zones[1].polygon'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def env_name(loc: Sequence[Union[int, str]]) -> Optional[str]:
    """The EDGE_AGENT_* variable that sets this field, when it is not inside a list."""
    if any(isinstance(part, int) for part in loc) or not loc:
        return None
    return "EDGE_AGENT_" + "__".join(str(part).upper() for part in loc)


def field_description(loc: Sequence[Union[int, str]]) -> str:
    """Walk the settings models along `loc` and return the field's description."""
    model: Optional[Type[BaseModel]] = AgentSettings
    description = ""
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        if field is None:
            return ""
        description = field.description or ""
        model = _inner_model(field.annotation)
    return description


def _inner_model(annotation: Any) -> Optional[Type[BaseModel]]:
    """The BaseModel inside a field type such as `List[CameraSettings]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def problems_from_validation(error: ValidationError) -> List[FieldProblem]:
    """Translate pydantic errors into FieldProblems with a fix each."""
    problems = []
    for item in error.errors(include_url=False):
        loc: Loc = tuple(item.get("loc", ()))
        message = str(item.get("msg", "invalid value"))
        if item.get("type") == "extra_forbidden":
            message = "unknown setting (misspelt, or not valid in this section)"
            parent = loc[:-1]
            names = _known_fields(parent)
            fix = f"remove it; valid here: {', '.join(names)}" if names else "remove it"
        else:
            fix = field_description(loc)
            variable = env_name(loc)
            if variable:
                fix = f"{fix} (file key or {variable})" if fix else f"set {variable}"
        problems.append(FieldProblem(format_loc(loc), message, fix))
    return problems


def _known_fields(loc: Sequence[Union[int, str]]) -> List[str]:
    model: Optional[Type[BaseModel]] = AgentSettings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _inner_model(field.annotation) if field is not None else None
    return sorted(model.model_fields) if model is not None else []


def read_toml(path: Path) -> Dict[str, Any]:
    """Parse a TOML file, turning every failure into a ConfigError naming the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist",
            "pass --config FILE, or copy deploy/agent.example.toml to "
            "/etc/edge-agent/agent.toml and edit it",
        ) from None
    except OSError as err:
        raise ConfigError(
            f"config file {path} cannot be read: {err.strerror}",
            "check the path and that the agent's user may read it",
        ) from None
    try:
        data: Dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
        return data
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text", "save it as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            f"config file {path} is not valid TOML: {err}",
            "fix the syntax at the line and column given (strings need quotes, "
            "tables are [section], lists of tables [[cameras]])",
        ) from None


class ConfigInvalid(ConfigError):
    """A configuration that parsed but failed validation; carries every problem."""

    def __init__(self, source: str, problems: List[FieldProblem]) -> None:
        lines = "\n".join("  " + p.render() for p in problems)
        super().__init__(
            f"{source}: {len(problems)} invalid setting(s)\n{lines}",
            "edit the settings named above; `edge-agent config schema` lists every field",
        )
        self.problems = problems


def semantic_problems(settings: AgentSettings) -> List[FieldProblem]:
    """Checks that need more than one field's type: camera URLs against their backend."""
    # Imported here: capture pulls in OpenCV, which `config schema` does not need.
    from edge_agent.capture.source import parse_camera_url

    problems = []
    for index, camera in enumerate(settings.cameras):
        try:
            parse_camera_url(camera.url, camera.backend)
        except ConfigError as err:
            problems.append(FieldProblem(f"cameras[{index}].url", err.problem, err.fix))
    return problems


def load_settings(path: Optional[Path]) -> AgentSettings:
    """Read `path` (or only the environment when None) and validate it."""
    data = read_toml(path) if path is not None else {}
    source = str(path) if path is not None else "environment"
    try:
        settings = AgentSettings(**data)
    except ValidationError as err:
        raise ConfigInvalid(source, problems_from_validation(err)) from None
    problems = semantic_problems(settings)
    if problems:
        raise ConfigInvalid(source, problems)
    return settings


def check_file(path: Path) -> List[FieldProblem]:
    """Validate a file for `config check`; an empty list means it is valid."""
    try:
        load_settings(path)
    except ConfigInvalid as err:
        return err.problems
    return []
