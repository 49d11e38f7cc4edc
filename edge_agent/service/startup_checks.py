"""The checks `run` makes before starting, shared with `config check` so they cannot diverge.

`config check` used to accept configs that `run` then refused (no enabled camera, a video
file that does not exist). Both now call `startup_problems`; `run` stops at the first problem
with its own error type (and exit code), `config check` lists them all with their sources.
Offline (the default for `config check`) nothing is opened: files are checked for existence
and permissions, models for their files and recorded hashes; `online` also decodes each
video file's first frame, as `run` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Optional, Union

from edge_agent.capture.preflight import preflight
from edge_agent.errors import ConfigError, EdgeAgentError
from edge_agent.models.store import load_model_record
from edge_agent.settings import AgentSettings, enabled_cameras
from edge_agent.settings.config_file import (
    ConfigInvalid,
    FieldProblem,
    Loc,
    load_with_provenance,
)


@dataclass(frozen=True)
class StartupProblem:
    """One reason `run` would refuse to start, at a field path."""

    path: str
    error: EdgeAgentError


def enabled_model_names(settings: AgentSettings) -> List[str]:
    """Manifest names of every model the enabled tasks load."""
    models = settings.models
    names = [f"peoplesemsegnet_{models.semseg.variant}"] if models.semseg.enabled else []
    if models.tracking.enabled:
        names.append(models.tracking.peoplenet_model)
        if models.tracking.reid_model:
            names.append(models.tracking.reid_model)
    return names


def startup_problems(settings: AgentSettings, online: bool,
                     check_models: bool = True) -> List[StartupProblem]:
    """Every problem `run` would stop at, in the order it would meet them."""
    problems: List[StartupProblem] = []
    if not enabled_cameras(settings):
        problems.append(StartupProblem("cameras", ConfigError(
            "no enabled camera is configured",
            "add a [[cameras]] table with id and url (see deploy/agent.example.toml)")))
    models = settings.models
    if not (models.semseg.enabled or models.tracking.enabled):
        problems.append(StartupProblem("models", ConfigError(
            "models.semseg.enabled and models.tracking.enabled are both false: nothing would "
            "run", "enable segmentation, tracking or both")))
    for index, camera in enumerate(settings.cameras):
        if not camera.enabled:
            continue
        try:
            preflight(camera, decode=online)
        except EdgeAgentError as err:
            problems.append(StartupProblem(f"cameras[{index}].url", err))
    if check_models:
        for name in enabled_model_names(settings):
            try:
                load_model_record(models.dir, name)
            except EdgeAgentError as err:
                problems.append(StartupProblem("models.dir", err))
    return problems


def raise_first(problems: List[StartupProblem]) -> None:
    """What `run` does: stop at the first problem with its own error (and exit code)."""
    if problems:
        raise problems[0].error


def check_file(path: Path, online: bool = False,
               environ: Optional[Mapping[str, str]] = None) -> List[FieldProblem]:
    """Everything `run` would refuse in `path` (+ environment), in one pass; [] = valid.

    Field validation first; when every field is valid, the start-up checks `run` makes
    (enabled cameras and models, video files, model files) — `online` also decodes video.
    """
    try:
        settings, provenance = load_with_provenance(path, environ)
    except ConfigInvalid as err:
        return err.problems
    out = []
    for problem in startup_problems(settings, online=online):
        loc = _parse_path(problem.path)
        out.append(FieldProblem(problem.path, problem.error.problem, problem.error.fix,
                                provenance.source(loc)))
    return out


def _parse_path(path: str) -> Loc:
    """'cameras[0].url' -> ('cameras', 0, 'url')."""
    parts: List[Union[int, str]] = []
    for piece in path.replace("]", "").split("."):
        name, _, index = piece.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index))
    return tuple(parts)
