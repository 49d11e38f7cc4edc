"""PeopleNet and ReID from the model store, on the backend the config asks for.

`models.backend = "onnxruntime"`: both on ONNX Runtime. `"tensorrt"`: both through the path
segmentation uses (pipeline.tensorrt_models): the cached engine built with the device
profile's settings for that model, or ONNX Runtime on the CPU while it builds, swapped in
after its smoke inference. Either way, whatever serves is checked against the manifest
packaged in engines/ (not the file's own sidecar, which travels with the file and cannot
vouch for it) before the tracker sees it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Tuple

from edge_agent.device.tuning import DeviceContext
from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.tensorrt_build import EngineToolkit, Progress
from edge_agent.models.peoplenet import ClusterParams
from edge_agent.models.store import ModelRecord, load_model_record
from edge_agent.pipeline.people_engine import PeopleEngine
from edge_agent.settings import AgentSettings
from edge_agent.settings.tracking import TrackingSettings

PeopleLoader = Callable[[AgentSettings], Tuple[PeopleEngine, bool]]
"""Settings in, (engine, any stand-in) out; the agent's default is load_people_engine."""

_Opener = Callable[[ModelRecord], InferenceBackend]


def cluster_params(cfg: TrackingSettings) -> ClusterParams:
    """PeopleNet ClusterParams from settings."""
    return ClusterParams(
        mode=cfg.cluster_mode, thresholds=tuple(cfg.thresholds), nms_iou=cfg.nms_iou,
        top_k=cfg.top_k, coverage_threshold=cfg.coverage_threshold, dbscan_eps=cfg.dbscan_eps,
        dbscan_min_samples=cfg.dbscan_min_samples, min_height_px=cfg.min_box_height_px,
    )


def load_people_engine(settings: AgentSettings, root: Path = Path("/"),
                       toolkit: Optional[EngineToolkit] = None,
                       device: Optional[DeviceContext] = None,
                       progress: Optional[Progress] = None) -> Tuple[PeopleEngine, bool]:
    """PeopleNet (+ ReID) on the configured backend; (engine, any stand-in).

    `root`, `toolkit`, `device` and `progress` matter only on the TensorRT path (tests pass a
    device tree and a FAKE toolkit there).
    """
    models = settings.models
    cfg = models.tracking
    det_rec = load_model_record(models.dir, cfg.peoplenet_model)
    reid_rec = load_model_record(models.dir, cfg.reid_model) if cfg.reid_model else None
    opener = _opener(settings, root, toolkit, device, progress)
    detector = _open_checked(opener, det_rec)
    embedder: Optional[InferenceBackend] = None
    try:
        if reid_rec is not None:
            embedder = _open_checked(opener, reid_rec)
        engine = PeopleEngine(
            detector, cluster_params(cfg), det_rec.manifest.max_batch, embedder,
            reid_rec.manifest.max_batch if reid_rec is not None else 16, cfg.embedding_size,
        )
    except Exception:
        detector.close()
        if embedder is not None:
            embedder.close()
        raise
    standin = det_rec.standin or (reid_rec is not None and reid_rec.standin)
    return engine, standin


def _opener(settings: AgentSettings, root: Path, toolkit: Optional[EngineToolkit],
            device: Optional[DeviceContext], progress: Optional[Progress]) -> _Opener:
    models = settings.models
    if models.backend == "tensorrt":
        # Imported only here: the ONNX Runtime path never touches the TensorRT modules.
        from edge_agent.pipeline.tensorrt_models import open_model, tensorrt_context

        context = tensorrt_context(settings, root, toolkit, device)  # once for both models
        return lambda record: open_model(settings, record, context, progress)
    from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend

    return lambda record: OnnxRuntimeBackend(record.onnx_path, models.providers, models.threads)


def _open_checked(opener: _Opener, record: ModelRecord) -> InferenceBackend:
    """Open `record`, then compare whatever serves with the packaged manifest."""
    backend = opener(record)
    _check_packaged_contract(backend, record.name)
    return backend


def _check_packaged_contract(backend: InferenceBackend, name: str) -> None:
    """Compare a loaded model with the manifest shipped in engines/, not its own sidecar."""
    from edge_agent.inference.contract import check_contract
    from edge_agent.models.manifest import load_manifest

    try:
        check_contract(backend.inputs, backend.outputs, load_manifest(name))
    except Exception:
        backend.close()
        raise
