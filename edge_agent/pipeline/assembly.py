"""Settings to tasks: which models run, on which resource, at which rate, for which cameras.

Pure construction, no threads started: the daemon calls `build_tasks` in prepare() (so every
model and file is checked before anything runs) and again on reload (so a bad new config
leaves the running tasks untouched). Engines come from the model registry, so a reload
borrows the loaded ones instead of loading them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from edge_agent.device.tuning import semseg_rate_hz
from edge_agent.inference.contract import check_contract
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.manifest import load_manifest
from edge_agent.models.store import load_model_record
from edge_agent.pipeline.people_engine import PeopleEngine
from edge_agent.pipeline.people_models import PeopleLoader, load_people_engine
from edge_agent.pipeline.people_tasks import PEOPLENET_TASK, REID_TASK, PeopleNetTask, ReidTask
from edge_agent.pipeline.pose_models import PoseLoader, load_pose_engine
from edge_agent.pipeline.pose_task import POSE_TASK, PoseTask
from edge_agent.pipeline.semseg_engine import SemSegEngine
from edge_agent.pipeline.semseg_task import SEMSEG_STAGES, SEMSEG_TASK, SemsegTask
from edge_agent.runtime.model_registry import ModelRegistry
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.task import Task
from edge_agent.settings import AgentSettings

SemsegLoader = Callable[[AgentSettings], SemSegEngine]
EVENT_STAGES = ["encode", "publish"]
TRACKING_STAGES = ["peoplenet", "reid", "tracker"]  # per engine, when models.tracking is on
TRACKER_STAGE = "tracker"
POSE_STAGE = "pose"  # crops + BodyPose3DNet + book + classifier, per batch
POSE_SINK_STAGE = "pose_events"


def semseg_model_name(settings: AgentSettings) -> str:
    """Manifest name of the configured PeopleSemSegNet variant."""
    return f"peoplesemsegnet_{settings.models.semseg.variant}"


def load_semseg_engine(settings: AgentSettings) -> SemSegEngine:
    """Load the segmentation model and prove it matches its contract before running it."""
    if settings.models.backend == "tensorrt":
        # Cached engine, or ONNX Runtime on the CPU while it builds (docs/engines.md).
        from edge_agent.pipeline.semseg_tensorrt import load_tensorrt_semseg

        return load_tensorrt_semseg(settings)
    record = load_model_record(settings.models.dir, semseg_model_name(settings))
    backend = OnnxRuntimeBackend(
        record.onnx_path, settings.models.providers, settings.models.threads
    )
    try:
        # The contract is the packaged manifest (engines/models), not the file's own sidecar:
        # a sidecar travels with its file and cannot vouch for it.
        check_contract(backend.inputs, backend.outputs, load_manifest(record.name))
        return SemSegEngine(backend, record.name, record.standin)
    except Exception:
        backend.close()
        raise


@dataclass(frozen=True)
class Loaders:
    """How models are loaded (tests substitute loaders on a FAKE TensorRT)."""

    semseg: SemsegLoader = load_semseg_engine
    people: PeopleLoader = load_people_engine
    pose: PoseLoader = load_pose_engine


def resource_for(settings: AgentSettings) -> str:
    """Where the models run: the CPU pool for ONNX Runtime, the GPU for TensorRT engines."""
    return "gpu" if settings.models.backend == "tensorrt" else "cpu"


def task_rates_hz(settings: AgentSettings) -> Dict[str, float]:
    """Each source task's configured rate (0 = every frame); crop tasks follow upstream."""
    return {SEMSEG_TASK: semseg_rate_hz(settings), PEOPLENET_TASK: settings.models.tracking.rate_hz,
            REID_TASK: 0.0, POSE_TASK: settings.models.pose.rate_hz}


def name_stages(timings: StageTimings, settings: AgentSettings) -> None:
    """Stage names per task (status line, telemetry) for the enabled models."""
    if settings.models.semseg.enabled:
        timings.name_task(SEMSEG_TASK, SEMSEG_STAGES)
        timings.declare(EVENT_STAGES)
    if settings.models.tracking.enabled:
        timings.name_task(PEOPLENET_TASK, ("peoplenet", "peoplenet", "peoplenet"))
        timings.name_task(REID_TASK, ("reid", "reid", "reid"))
        timings.declare([TRACKER_STAGE])
    if settings.models.pose.enabled:
        timings.name_task(POSE_TASK, (POSE_STAGE, POSE_STAGE, POSE_STAGE))
        timings.declare([POSE_SINK_STAGE])


def people_key(settings: AgentSettings) -> str:
    """Registry key of the PeopleNet (+ ReID) pair."""
    cfg = settings.models.tracking
    return f"people:{cfg.peoplenet_model}+{cfg.reid_model}:{settings.models.backend}"


def pose_key(settings: AgentSettings) -> str:
    """Registry key of the pose engine (models and per-track pose state)."""
    cfg = settings.models.pose
    return f"pose:{cfg.model}+{cfg.classifier_model}:{settings.models.backend}"


def semseg_key(settings: AgentSettings) -> str:
    """Registry key of the segmentation engine."""
    return f"semseg:{semseg_model_name(settings)}:{settings.models.backend}"


def build_tasks(settings: AgentSettings, cameras: Sequence[str], registry: ModelRegistry,
                loaders: Loaders = Loaders()) -> List[Task]:
    """The enabled models as tasks over `cameras`; engines loaded (once) through `registry`."""
    tasks: List[Task] = []
    resource = resource_for(settings)
    if settings.models.semseg.enabled:
        engine = registry.get_or_load(semseg_key(settings), lambda: loaders.semseg(settings))
        tasks.append(SemsegTask(engine, cameras, resource))
    if settings.models.tracking.enabled:
        people, standin = registry.get_or_load(people_key(settings),
                                               lambda: _people_pair(loaders.people, settings))
        cfg = settings.models.tracking
        tasks.append(PeopleNetTask(people, cfg.peoplenet_model, cameras, standin, resource))
        if people.has_embedder:
            tasks.append(ReidTask(people, cfg.reid_model, cameras, standin, resource))
    if settings.models.pose.enabled:  # ModelsSettings refuses it without tracking
        pose = registry.get_or_load(pose_key(settings), lambda: loaders.pose(settings))
        tasks.append(PoseTask(pose, settings.models.pose.model, cameras, resource))
    return tasks


class _PeoplePair(Tuple[PeopleEngine, bool]):
    """(engine, any stand-in) with close(), so the registry can own it."""

    def close(self) -> None:
        self[0].close()


def _people_pair(loader: PeopleLoader, settings: AgentSettings) -> _PeoplePair:
    engine, standin = loader(settings)
    return _PeoplePair((engine, standin))


def semseg_task(tasks: Sequence[Task]) -> Optional[Task]:
    """The segmentation task, if enabled."""
    return next((t for t in tasks if t.name == SEMSEG_TASK), None)
