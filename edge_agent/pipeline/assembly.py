"""Build the pipeline's parts from settings: the segmentation branch and the tracking branch.

Pure construction, no threads started: the daemon calls these in prepare() (so every model
and file is checked before anything runs) and again on reload (so a bad new config leaves the
running parts untouched). Each branch reads the cameras' latest-frame slots under its own
reader name, so neither starves the other.
"""

from __future__ import annotations

import queue
from typing import List, Optional, Tuple

from edge_agent.capture.camera_worker import CameraWorker
from edge_agent.device.tuning import semseg_rate_hz
from edge_agent.events.occupancy import ZoneOccupancy
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.inference.contract import check_contract
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.manifest import load_manifest
from edge_agent.models.store import load_model_record
from edge_agent.pipeline.event_worker import EventWorker
from edge_agent.pipeline.inference_worker import InferenceWorker, InferredBatch
from edge_agent.pipeline.mask_events import MaskEventBuilder
from edge_agent.pipeline.people_models import PeopleLoader, load_people_engine
from edge_agent.runtime.rate_gate import RateGate
from edge_agent.pipeline.semseg_engine import SemSegEngine
from edge_agent.pipeline.timing import StageTimings
from edge_agent.pipeline.tracking_stage import TrackingStage
from edge_agent.pipeline.tracking_worker import TrackingWorker
from edge_agent.settings import AgentSettings, enabled_cameras
from edge_agent.transport.publisher import Publisher

SEMSEG_STAGES = ["preprocess", "inference", "decode", "encode", "publish"]
TRACKING_STAGES = ["peoplenet", "reid", "tracker"]  # per engine, when models.tracking is on
_RESULT_QUEUE_SIZE = 4


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


def stage_names(settings: AgentSettings) -> List[str]:
    """Timing stages of the enabled branches."""
    names = list(SEMSEG_STAGES) if settings.models.semseg.enabled else []
    return names + (list(TRACKING_STAGES) if settings.models.tracking.enabled else [])


def build_semseg(
    settings: AgentSettings,
    device_id: str,
    engine: SemSegEngine,
    workers: List[CameraWorker],
    publisher: Publisher,
    topics: Topics,
    timings: StageTimings,
    sequence: SequenceCounter,
) -> Tuple[InferenceWorker, EventWorker]:
    """Segmentation: preprocess + inference threads, then the mask-event thread."""
    results: "queue.Queue[InferredBatch]" = queue.Queue(maxsize=_RESULT_QUEUE_SIZE)
    inference = InferenceWorker(
        engine,
        {worker.camera_id: worker.slot for worker in workers},
        RateGate(semseg_rate_hz(settings)),
        results,
    )
    builder = MaskEventBuilder(
        device_id, enabled_cameras(settings), settings.models.semseg, sequence
    )
    events = EventWorker(
        results,
        builder,
        topics,
        publisher,
        timings,
        qos=settings.mqtt.qos,
        model_name=engine.model_name,
        standin=engine.standin,
        occupancy=ZoneOccupancy(topics),
    )
    return inference, events


def build_tracking(
    settings: AgentSettings,
    device_id: str,
    workers: List[CameraWorker],
    publisher: Publisher,
    topics: Topics,
    timings: StageTimings,
    sequence: SequenceCounter,
    loader: PeopleLoader = load_people_engine,
) -> Optional[TrackingWorker]:
    """People tracking on its own thread, reading the cameras' slots as 'tracking'."""
    if not settings.models.tracking.enabled:
        return None
    stage = TrackingStage(settings, publisher, topics, device_id, sequence, timings=timings,
                          loader=loader)
    stage.load()  # a missing or wrong model fails here, before any thread starts
    slots = {worker.camera_id: worker.slot.reader("tracking") for worker in workers}
    return TrackingWorker(stage, slots, RateGate(settings.models.tracking.rate_hz))
