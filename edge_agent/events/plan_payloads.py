"""The scheduler's plan as dashboards read it: the retained `plan` document and re-plan events.

Built from scheduler.report's dicts (one rendering for telemetry, the retained message and the
event), validated here so the AsyncAPI document describes exactly what is sent.
"""

from __future__ import annotations

from typing import Dict, List, Optional

from pydantic import Field

from edge_agent.events.payloads import SCHEMA_VERSION, _Payload


class PlanTaskPayload(_Payload):
    """One task in the plan: what was planned and what was achieved."""

    state: str = Field(..., description="'planned', 'probe' (measuring an unknown engine) or "
                                        "'shed' (not run: the device cannot afford it).")
    model: Optional[str] = Field(None, description="Model (variant) serving the task.")
    resource: Optional[str] = Field(None, description="'gpu', 'dla0', 'dla1' or 'cpu'.")
    batch: Optional[int] = Field(None, description="Batch size planned.")
    planned_hz: float = Field(..., ge=0.0, description="Planned rate per camera, Hz.")
    achieved_hz: float = Field(..., ge=0.0, description="Achieved rate per camera, Hz (5 s).")
    deadline_s: Optional[float] = Field(None, description="Oldest frame still worth running.")
    dropped: int = Field(0, ge=0, description="Frames dropped as older than the deadline.")
    deadline_misses: int = Field(0, ge=0, description="Frames finished after their deadline.")


class PlanPayload(_Payload):
    """The plan in force (retained `plan` topic and telemetry `plan`)."""

    schema_version: str = Field(SCHEMA_VERSION, description="Payload schema version.")
    device_id: str = Field("", description="Id of the device.")
    ts: float = Field(0.0, ge=0.0, description="When it was reported, UTC epoch seconds.")
    reason: str = Field("", description="Why this plan was made ('first plan', 'power mode "
                                        "MODE_15W', 'latency drift peoplenet', ...).")
    power_mode: Optional[str] = Field(None, description="nvpmodel mode name; null if unknown.")
    gpu_mhz: Optional[float] = Field(None, description="Loaded GPU clock, MHz.")
    throttled: bool = Field(False, description="True while the device throttles.")
    utility: float = Field(..., description="Weighted utility of the plan.")
    utilisation: Dict[str, float] = Field(default_factory=dict,
                                          description="Planned busy share per resource.")
    shed: List[str] = Field(default_factory=list, description="Tasks not run, and why in notes.")
    notes: List[str] = Field(default_factory=list, description="Planner remarks.")
    plan_ms: float = Field(0.0, ge=0.0, description="Time the planner took.")
    absurd_latency_samples: Dict[str, int] = Field(
        default_factory=dict, description="Latency samples ignored as absurd, per engine.")
    tasks: Dict[str, PlanTaskPayload] = Field(default_factory=dict, description="Per task.")


class PlanChange(_Payload):
    """Model, resource and rate of a task before or after a re-plan."""

    model: str = Field(..., description="Model (variant).")
    resource: str = Field(..., description="Resource.")
    rate_hz: float = Field(..., ge=0.0, description="Rate per camera, Hz.")


class ReplanEvent(_Payload):
    """Published on every re-plan: why, and what changed per task."""

    schema_version: str = Field(SCHEMA_VERSION, description="Payload schema version.")
    device_id: str = Field("", description="Id of the device.")
    ts: float = Field(0.0, ge=0.0, description="When it re-planned, UTC epoch seconds.")
    reason: str = Field("", description="Why it re-planned.")
    power_mode: Optional[str] = Field(None, description="nvpmodel mode name; null if unknown.")
    shed: List[str] = Field(default_factory=list, description="Tasks shed by the new plan.")
    changes: Dict[str, Dict[str, Optional[PlanChange]]] = Field(
        default_factory=dict, description="Per task: {'from': ..., 'to': ...}; null = absent.")
