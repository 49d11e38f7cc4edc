"""Read the TOML configuration and turn every validation failure into field-named advice.

pydantic's own messages say what is wrong but not where the setting lives nor how to fix
it; users edit a TOML file or an environment variable, so each error here names the dotted
field path (`cameras[0].zones[1].polygon`), the environment variable that could also set it,
and the field's description, which is written as the fix.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

from pydantic import BaseModel, ValidationError

from edge_agent.errors import ConfigError
from edge_agent.settings import LIST_FIELDS, AgentSettings
from edge_agent.settings.provenance import (
    env_locations,
    env_source,
    list_item_overrides,
    nearest_line,
    toml_lines,
    variable_for,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

Loc = Tuple[Union[int, str], ...]


@dataclass(frozen=True)
class FieldProblem:
    """One invalid setting: where it is, where its value came from, what is wrong, the fix."""

    path: str
    message: str
    fix: str
    source: str = ""

    def render(self) -> str:
        """One or two lines as `config check` prints them."""
        where = f" ({self.source})" if self.source else ""
        line = f"{self.path}{where}: {self.message}"
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
    """The EDGE_AGENT_* variable that sets this field (list items by index)."""
    if not loc:
        return None
    return variable_for(loc)


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


@dataclass(frozen=True)
class Provenance:
    """Where values came from: the file's lines and the variables set."""

    file: str = ""
    lines: Mapping[Loc, int] = field(default_factory=dict)
    env: Mapping[Loc, str] = field(default_factory=dict)

    def source(self, loc: Loc) -> str:
        """'environment variable X', 'FILE line N', 'FILE' or 'default'."""
        variable = env_source(self.env, loc)
        if variable is not None:
            return f"environment variable {variable}"
        line = nearest_line(self.lines, loc)
        if line is not None and self.file:
            return f"{self.file} line {line}"
        return self.file or "default"


# Fixes for checks that span fields (model validators report no field of their own).
_MODEL_FIXES = {
    "camera ids must be unique": "give each [[cameras]] table its own id",
}


def problems_from_validation(error: ValidationError,
                             provenance: Optional[Provenance] = None) -> List[FieldProblem]:
    """Translate pydantic errors into FieldProblems with a source and a fix each."""
    where = provenance or Provenance()
    problems = []
    for item in error.errors(include_url=False):
        loc: Loc = tuple(item.get("loc", ()))
        message = str(item.get("msg", "invalid value"))
        kind = item.get("type")
        if kind == "extra_forbidden":
            message = "unknown setting (misspelt, or not valid in this section)"
            names = _known_fields(loc[:-1])
            fix = f"remove it; valid here: {', '.join(names)}" if names else "remove it"
        else:
            fix = _fix_for(loc, message, str(kind))
        problems.append(FieldProblem(format_loc(loc), message, fix, where.source(loc)))
    return problems


def _fix_for(loc: Loc, message: str, kind: str) -> str:
    """A fix that says what to write, not only what the field is."""
    for needle, fix in _MODEL_FIXES.items():
        if needle in message:
            return fix
    description = field_description(loc)
    if kind == "missing":
        key = next((str(part) for part in reversed(loc) if isinstance(part, str)), "")
        return f"add `{key} = ...` here ({description})" if description else f"add `{key}`"
    if _is_list_of_tables(loc):
        name = ".".join(str(part) for part in loc if isinstance(part, str))
        return f"write one [[{name}]] table per item (see deploy/agent.example.toml)"
    if not loc:
        return "edit the settings named in the message; `edge-agent config schema` lists them"
    fix = f"set a valid value: {description}" if description else "set a valid value"
    return f"{fix} (file key or {variable_for(loc)})"


def _is_list_of_tables(loc: Loc) -> bool:
    model: Optional[Type[BaseModel]] = AgentSettings
    annotation: Any = None
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        found = model.model_fields.get(part)
        if found is None:
            return False
        annotation = found.annotation
        model = _inner_model(annotation)
    return getattr(annotation, "__origin__", None) in (list, List) and model is not None


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
    return parse_toml(read_text(path), path)


def read_text(path: Path) -> str:
    """The file's text; ConfigError naming the file when it is missing, unreadable, not UTF-8."""
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
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text", "save it as UTF-8") from None


def parse_toml(text: str, path: Optional[Path]) -> Dict[str, Any]:
    """Parse TOML text; ConfigError with the position on a syntax error."""
    try:
        data: Dict[str, Any] = tomllib.loads(text)
        return data
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


def semantic_problems(settings: AgentSettings,
                      provenance: Optional[Provenance] = None) -> List[FieldProblem]:
    """Checks that need more than one field's type: camera URLs against their backend."""
    # Imported here: capture pulls in OpenCV, which `config schema` does not need.
    from edge_agent.settings.camera_url import parse_camera_url

    problems = []
    for index, camera in enumerate(settings.cameras):
        try:
            parse_camera_url(camera.url, camera.backend)
        except ConfigError as err:
            source = (provenance or Provenance()).source(("cameras", index, "url"))
            problems.append(FieldProblem(f"cameras[{index}].url", err.problem, err.fix, source))
    return problems


def load_settings(path: Optional[Path],
                  environ: Optional[Mapping[str, str]] = None) -> AgentSettings:
    """Read `path` (or only the environment when None) and validate it.

    EDGE_AGENT_<LIST>__<i>__<KEY> variables are applied to the file's list items first; every
    problem names the file line or the variable its value came from.
    """
    return load_with_provenance(path, environ)[0]


def load_with_provenance(path: Optional[Path], environ: Optional[Mapping[str, str]] = None
                         ) -> Tuple[AgentSettings, Provenance]:
    """load_settings, plus where each value came from (for problems found later)."""
    env = os.environ if environ is None else environ
    text = read_text(path) if path is not None else ""
    data = parse_toml(text, path) if path is not None else {}
    source = str(path) if path is not None else "environment"
    provenance = Provenance(str(path) if path is not None else "", toml_lines(text),
                            env_locations(env, LIST_FIELDS))
    try:
        data = list_item_overrides(env, data, LIST_FIELDS)
    except ValueError as err:
        raise ConfigError(str(err), "number list items from 0 without gaps") from None
    try:
        settings = AgentSettings(**data)
    except ValidationError as err:
        raise ConfigInvalid(source, problems_from_validation(err, provenance)) from None
    problems = semantic_problems(settings, provenance)
    if problems:
        raise ConfigInvalid(source, problems)
    return settings, provenance
