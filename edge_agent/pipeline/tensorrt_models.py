"""Any packaged model on the agent's TensorRT path, shared by segmentation and tracking.

`models.backend = "tensorrt"` means the same thing for every model the agent runs: identify
the device once, select its profile, ask TensorRT for its capabilities, then per model decide
the build settings from the profile's entry for that model (precision, DLA core with GPU
fallback, batch) and open it through inference.tensorrt_loader: the valid cached engine, or
ONNX Runtime on the CPU at once while the engine builds in the background, swapped in after
its smoke inference and contract check. The contract is always the packaged manifest
(engines/models), never the file's sidecar. tensorrt/pycuda are imported only here, only on
this path; a host without them gets a configuration error naming both fixes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from edge_agent.device.tuning import DeviceContext, detect_device
from edge_agent.errors import ConfigError
from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.inference.tensorrt_build import EngineToolkit, Progress, plan_build
from edge_agent.inference.tensorrt_cache import EngineCache
from edge_agent.inference.tensorrt_loader import open_tensorrt
from edge_agent.models.manifest import load_manifest
from edge_agent.models.store import ModelRecord
from edge_agent.pipeline.calibration_choice import calibration_for_build
from edge_agent.settings import AgentSettings

logger = logging.getLogger(__name__)


def real_toolkit() -> EngineToolkit:
    """tensorrt_api.TensorRtToolkit; ConfigError when TensorRT is not importable here."""
    try:
        from edge_agent.inference.tensorrt_api import TensorRtToolkit

        return TensorRtToolkit()
    except ImportError as exc:
        raise ConfigError(
            f"models.backend = \"tensorrt\" but TensorRT is not importable here ({exc})",
            "install JetPack's python3-libnvinfer (Jetson; the venv needs "
            "--system-site-packages) or the tensorrt wheel (x86), or set "
            "models.backend = \"onnxruntime\"",
        ) from exc


@dataclass(frozen=True)
class TensorRtContext:
    """The device (and its profile) and the TensorRT toolkit, found once per branch."""

    device: DeviceContext
    toolkit: EngineToolkit


def tensorrt_context(settings: AgentSettings, root: Path = Path("/"),
                     toolkit: Optional[EngineToolkit] = None,
                     device: Optional[DeviceContext] = None) -> TensorRtContext:
    """Detect the device (unless given) and open TensorRT (unless a toolkit is given)."""
    device = device or detect_device(root, settings.device.profile)
    logger.info("TensorRT backend: %s", device.describe())
    return TensorRtContext(device, toolkit or real_toolkit())


def open_model(settings: AgentSettings, record: ModelRecord, context: TensorRtContext,
               progress: Optional[Progress] = None) -> InferenceBackend:
    """`record` on TensorRT with its profile settings: cached engine, or CPU while it builds."""
    toolkit = context.toolkit
    caps = toolkit.capabilities()
    calibration = calibration_for_build(record, caps.version, settings.models.calibration_dir)
    request = plan_build(context.device.identity, context.device.choice.profile, record, caps,
                         calibration)
    for note in request.settings.notes:
        logger.info("%s build settings: %s", record.name, note)
    models = settings.models
    return open_tensorrt(
        toolkit, EngineCache(models.engine_dir), request, load_manifest(record.name),
        lambda: OnnxRuntimeBackend(record.onnx_path, models.providers, models.threads),
        progress,
    )
