"""PeopleSemSegNet on TensorRT for the agent (`models.backend = "tensorrt"`).

The device's profile also picks the variant when `models.semseg.variant = "auto"`; the rest
(cached engine, or ONNX Runtime on the CPU while the engine builds, then the hot swap) is the
path every model shares, in pipeline.tensorrt_models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from edge_agent.device.tuning import AUTO, DeviceContext
from edge_agent.inference.tensorrt_build import EngineToolkit, Progress
from edge_agent.models.store import load_model_record
from edge_agent.pipeline.semseg_engine import SemSegEngine
from edge_agent.pipeline.tensorrt_models import open_model, tensorrt_context
from edge_agent.settings import AgentSettings


def load_tensorrt_semseg(settings: AgentSettings, root: Path = Path("/"),
                         toolkit: Optional[EngineToolkit] = None,
                         device: Optional[DeviceContext] = None,
                         progress: Optional[Progress] = None) -> SemSegEngine:
    """The segmentation engine on TensorRT (or CPU while its engine builds)."""
    context = tensorrt_context(settings, root, toolkit, device)
    variant = settings.models.semseg.variant
    if variant == AUTO:
        variant = context.device.choice.profile.semseg_variant
    record = load_model_record(settings.models.dir, f"peoplesemsegnet_{variant}")
    backend = open_model(settings, record, context, progress)
    try:
        return SemSegEngine(backend, record.name, record.standin)
    except Exception:
        backend.close()
        raise
