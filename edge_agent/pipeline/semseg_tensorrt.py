"""PeopleSemSegNet on TensorRT for the agent (`models.backend = "tensorrt"`).

Identifies the device, selects its profile (an unknown Jetson gets the conservative one, and
the log says so), decides the build settings, then opens the model through
inference.tensorrt_loader: the cached engine when valid, otherwise ONNX Runtime on the CPU at
once and the engine when its background build has passed the smoke inference. The
tensorrt/pycuda module is imported only here, only on this path, and a host without it gets a
configuration error naming both fixes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from edge_agent.device.tuning import AUTO, DeviceContext, detect_device
from edge_agent.errors import ConfigError
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.inference.tensorrt_build import EngineToolkit, Progress, plan_build
from edge_agent.inference.tensorrt_cache import EngineCache
from edge_agent.inference.tensorrt_loader import open_tensorrt
from edge_agent.models.manifest import load_manifest
from edge_agent.models.store import load_model_record
from edge_agent.pipeline.semseg_engine import SemSegEngine
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


def load_tensorrt_semseg(settings: AgentSettings, root: Path = Path("/"),
                         toolkit: Optional[EngineToolkit] = None,
                         device: Optional[DeviceContext] = None,
                         progress: Optional[Progress] = None) -> SemSegEngine:
    """The segmentation engine on TensorRT (or CPU while its engine builds)."""
    device = device or detect_device(root, settings.device.profile)
    logger.info("TensorRT backend: %s", device.describe())
    variant = settings.models.semseg.variant
    if variant == AUTO:
        variant = device.choice.profile.semseg_variant
    record = load_model_record(settings.models.dir, f"peoplesemsegnet_{variant}")
    toolkit = toolkit or real_toolkit()
    request = plan_build(device.identity, device.choice.profile, record,
                         toolkit.capabilities())
    for note in request.settings.notes:
        logger.info("%s build settings: %s", record.name, note)
    models = settings.models
    backend = open_tensorrt(
        toolkit, EngineCache(models.engine_dir), request,
        # The contract is the packaged manifest, not the file's sidecar (as on the ONNX path).
        load_manifest(record.name),
        lambda: OnnxRuntimeBackend(record.onnx_path, models.providers, models.threads),
        progress,
    )
    try:
        return SemSegEngine(backend, record.name, record.standin)
    except Exception:
        backend.close()
        raise
