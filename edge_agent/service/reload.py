"""SIGHUP reload: re-read the config, apply what can change live, keep the rest.

What a reload may change without touching the MQTT session or the loaded engine: the camera
list and every camera setting (ids and therefore their topics, URLs, rates, zones), the
inference rate and mask size (`models.semseg` except `variant`), logging and service
settings. Everything else (broker connection and topic prefix, device id, model files and
backend, outbox) is bound to the connection or the engine; a change there is reported as
"needs a restart" and the running value is kept, so the agent never runs a half-applied
config. A file that fails validation changes nothing: the old config keeps running and the
error goes to the log, STATUS= and the status snapshot.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from typing_extensions import Protocol

from edge_agent.errors import EdgeAgentError
from edge_agent.events.health_payloads import ReloadTelemetry
from edge_agent.settings import AgentSettings

logger = logging.getLogger(__name__)

LIVE_SECTIONS = ("cameras", "logging", "service")
# models.semseg fields that need a different engine, hence a restart.
_ENGINE_SEMSEG_FIELDS = ("variant", "enabled")


@dataclass(frozen=True)
class ReloadPlan:
    """What a new config changes: applied live, or kept until a restart."""

    effective: AgentSettings
    live: List[str] = field(default_factory=list)
    restart_required: List[str] = field(default_factory=list)

    @property
    def pipeline_changed(self) -> bool:
        """True when cameras or inference settings changed, so the pipeline is rebuilt."""
        return any(name == "cameras" or name.startswith("models.") for name in self.live)


def plan_reload(old: AgentSettings, new: AgentSettings) -> ReloadPlan:
    """Compare two validated configs section by section."""
    updates: Dict[str, Any] = {}
    live: List[str] = []
    restart: List[str] = []
    for name in type(new).model_fields:
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        if name in LIVE_SECTIONS:
            live.append(name)
        elif name == "models":
            updates[name] = _merge_models(before, after, live, restart)
        else:
            restart.append(name)
            updates[name] = before
    effective = new.model_copy(update=updates) if updates else new
    return ReloadPlan(effective, live, restart)


def _merge_models(before: Any, after: Any, live: List[str], restart: List[str]) -> Any:
    """Keep the engine-bound model settings, take the live semseg ones."""
    for name in type(after).model_fields:
        if name != "semseg" and getattr(before, name) != getattr(after, name):
            restart.append(f"models.{name}")
    semseg_before, semseg_after = before.semseg, after.semseg
    semseg_updates: Dict[str, Any] = {}
    for name in type(semseg_after).model_fields:
        if getattr(semseg_before, name) == getattr(semseg_after, name):
            continue
        if name in _ENGINE_SEMSEG_FIELDS:
            restart.append(f"models.semseg.{name}")
            semseg_updates[name] = getattr(semseg_before, name)
        else:
            live.append(f"models.semseg.{name}")
    semseg = semseg_after.model_copy(update=semseg_updates) if semseg_updates else semseg_after
    return before.model_copy(update={"semseg": semseg})


class ReloadableAgent(Protocol):
    """What a reload needs from the agent."""

    def reload(self, settings: AgentSettings) -> ReloadPlan: ...


@dataclass(frozen=True)
class ReloadOutcome:
    """Result of one SIGHUP: the plan applied, or the error that kept the old config."""

    plan: Optional[ReloadPlan]
    error: str = ""


def reload_from_file(agent: ReloadableAgent, config_path: Optional[Path]) -> ReloadOutcome:
    """Re-read `config_path` (None: environment only), validate, and apply it to `agent`."""
    # Imported here: config_file pulls in capture (OpenCV) for URL checks.
    from edge_agent.settings.config_file import load_settings

    source = str(config_path) if config_path is not None else "the environment"
    try:
        plan = agent.reload(load_settings(config_path))
    except EdgeAgentError as err:
        problems = getattr(err, "problems", None)  # ConfigInvalid names each bad field
        if problems:
            message = "; ".join(f"{p.path}: {p.message}" for p in problems)
        else:
            message = err.problem.splitlines()[0] if err.problem else type(err).__name__
        logger.error(
            "reload of %s refused, still running the previous config: %s%s",
            source,
            err.problem,
            f"\n  fix: {err.fix}" if err.fix else "",
        )
        return ReloadOutcome(None, message)
    if plan.restart_required:
        logger.warning(
            "reload of %s: %s changed but need(s) a restart to take effect "
            "(`systemctl restart edge-agent`); running values kept",
            source,
            ", ".join(plan.restart_required),
        )
    logger.info(
        "reloaded %s: %s", source, ", ".join(plan.live) if plan.live else "nothing changed live"
    )
    return ReloadOutcome(plan)


def reload_result(outcome: ReloadOutcome, ts: Optional[float] = None) -> ReloadTelemetry:
    """One reload's outcome as a telemetry section."""
    plan = outcome.plan
    return ReloadTelemetry(
        ok=plan is not None,
        ts=time.time() if ts is None else ts,
        error=outcome.error,
        live=list(plan.live) if plan is not None else [],
        restart_required=list(plan.restart_required) if plan is not None else [],
    )
