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
from typing import List

from edge_agent.capture.preflight import preflight
from edge_agent.errors import ConfigError, EdgeAgentError
from edge_agent.models.store import load_model_record
from edge_agent.settings import AgentSettings, enabled_cameras


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
