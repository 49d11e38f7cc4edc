"""Open a model on TensorRT for the agent: the cached engine, or CPU now and the engine later.

The decision, in order:
1. Settings and cache key from the device profile and what TensorRT reports (plan_build).
2. A valid cached engine (header, key and plan hash all match) is loaded, checked against the
   packaged manifest (a mismatch is a ModelContractError: the agent refuses to start) and used.
3. Otherwise (missing, or corrupt/foreign: reported, never handed to TensorRT) start-up is not
   blocked: ONNX Runtime on the CPU serves at once (its model checked against the same
   manifest), an EngineBuilder builds in the background, and when the new engine has passed
   its smoke inference and its contract check the agent swaps to it between two batches. A
   failed build, smoke inference or contract check is logged and the agent stays on the CPU
   (the previous engine file, if any, is left alone), until `edge-agent engines build` or a
   restart succeeds.
Nothing here imports tensorrt; the toolkit (tensorrt_api.TensorRtToolkit, or a test FAKE) is
passed in.
"""

from __future__ import annotations

import logging
from typing import Callable, Optional

from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.contract import check_contract
from edge_agent.inference.hot_swap import HotSwapBackend
from edge_agent.inference.serving import ONNXRUNTIME_CPU, TENSORRT, TENSORRT_BUILDING
from edge_agent.inference.tensorrt_backend import TensorRtBackend
from edge_agent.inference.tensorrt_build import (
    BuildRequest,
    BuildStatus,
    EngineBuilder,
    EngineToolkit,
    Progress,
)
from edge_agent.inference.tensorrt_cache import EngineCache
from edge_agent.models.manifest import ModelManifest

logger = logging.getLogger(__name__)


def load_cached_engine(toolkit: EngineToolkit, cache: EngineCache, request: BuildRequest,
                       manifest: ModelManifest) -> TensorRtBackend:
    """The valid cached engine for `request`, contract-checked; RuntimeError if not valid."""
    plan = cache.load(request.key)
    if plan is None:
        verdict = cache.check(request.key)
        raise RuntimeError(f"engine {verdict.path.name} is {verdict.status} ({verdict.detail})")
    header = cache.check(request.key).header or {}
    dla_layers = header.get("dla_layers")
    backend = TensorRtBackend(toolkit.load(plan), request.settings.batch_max,
                              cache.path_for(request.key).name,
                              batch_min=request.settings.batch_min,
                              dla_layers=dla_layers if isinstance(dla_layers, int) else None)
    try:
        check_contract(backend.inputs, backend.outputs, manifest)
    except Exception:
        backend.close()
        raise
    return backend


def open_tensorrt(toolkit: EngineToolkit, cache: EngineCache, request: BuildRequest,
                  manifest: ModelManifest, cpu_fallback: Callable[[], InferenceBackend],
                  progress: Optional[Progress] = None) -> InferenceBackend:
    """A backend serving now: the cached engine, or CPU while the engine builds (see above)."""
    verdict = cache.check(request.key)
    if verdict.valid:
        backend = load_cached_engine(toolkit, cache, request, manifest)
        logger.info("%s: TensorRT engine %s (%s, batch %d..%d, dla core %d, %s layer(s) on "
                    "the DLA)", manifest.name, verdict.path, request.settings.precision,
                    request.settings.batch_min, request.settings.batch_max,
                    request.settings.dla_core, getattr(backend, "dla_layers", None))
        return backend
    if verdict.status in ("corrupt", "foreign"):
        logger.warning("%s: cached engine %s is %s (%s); it will be rebuilt, never loaded",
                       manifest.name, verdict.path, verdict.status, verdict.detail)
    fallback = cpu_fallback()
    try:
        check_contract(fallback.inputs, fallback.outputs, manifest)
    except Exception:
        fallback.close()
        raise
    serving = HotSwapBackend(fallback, TENSORRT_BUILDING)

    def finished(status: BuildStatus) -> None:
        _swap_when_ready(serving, status, toolkit, cache, request, manifest)

    builder = EngineBuilder(toolkit, cache, progress=progress, on_finish=finished)
    serving.on_close(builder.stop)
    logger.warning("%s: no valid TensorRT engine for %s yet; running ONNX Runtime on the CPU "
                   "while it builds in the background (minutes on a Nano)", manifest.name,
                   request.key.device)
    builder.request(request)
    return serving


def _swap_when_ready(serving: HotSwapBackend, status: BuildStatus, toolkit: EngineToolkit,
                     cache: EngineCache, request: BuildRequest,
                     manifest: ModelManifest) -> None:
    """Build thread: swap to the new engine, or say why the agent stays on the CPU."""
    stay = ("; staying on ONNX Runtime (CPU). Fix it and restart, or build it with "
            f"`edge-agent engines build {manifest.name}`")
    if status.state != "ready":
        serving.relabel(ONNXRUNTIME_CPU)
        logger.error("%s: engine build %s: %s%s", manifest.name, status.state, status.detail,
                     stay)
        return
    try:
        backend = load_cached_engine(toolkit, cache, request, manifest)
    except Exception as exc:  # noqa: BLE001 - the agent keeps running on the CPU
        serving.relabel(ONNXRUNTIME_CPU)
        logger.error("%s: new engine not used: %s%s", manifest.name, exc, stay)
        return
    if serving.swap(backend, TENSORRT):
        logger.info("%s: switched to TensorRT engine %s", manifest.name, status.path)
