"""Engine builds that never block the agent and never replace a good engine with a bad one.

A build takes minutes on a Nano, so `EngineBuilder.request()` returns at once and builds on its
own thread; the running pipeline keeps whatever backend it has. The new plan is deserialized and
run once on zeros (a smoke inference, outputs checked against the model's contract) and only
then written to the cache, atomically; a failed build or smoke test leaves every existing engine
file as it was. Progress comes from TensorRT's IProgressMonitor where the binding has one, and
as elapsed-time lines otherwise. The real toolkit builds in a child process, so `stop()` ends a
build at once even on TensorRT 8.x (no monitor); the cache header records how many layers
TensorRT put on the DLA (`dla_layers`, None when its log did not say).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Union

import numpy as np
from typing_extensions import Protocol

from edge_agent.device.identity import DeviceIdentity
from edge_agent.device.profiles import DeviceProfile
from edge_agent.inference.backend import InferenceBackend
from edge_agent.inference.build_lock import exclusive_build
from edge_agent.inference.tensorrt_cache import EngineCache, EngineKey
from edge_agent.inference.tensorrt_placement import BuiltPlan
from edge_agent.inference.tensorrt_settings import (
    BuildSettings,
    TrtCapabilities,
    decide_build_settings,
)
from edge_agent.models.manifest import ModelManifest
from edge_agent.models.store import ModelRecord

logger = logging.getLogger(__name__)
Progress = Callable[[str], None]
CALIBRATION_SUFFIX = ".calib"


class EngineToolkit(Protocol):
    """What the builder needs from TensorRT (tensorrt_api.TensorRtToolkit, or a test FAKE)."""

    @property
    def has_progress_monitor(self) -> bool: ...

    def capabilities(self) -> TrtCapabilities: ...

    def build(self, onnx_path: Path, settings: BuildSettings, progress: Progress,
              cancel: threading.Event) -> Union[bytes, BuiltPlan]: ...

    def load(self, plan: bytes) -> InferenceBackend: ...


@dataclass(frozen=True)
class BuildRequest:
    """One engine to make: where the ONNX is, how to build it, the key to file it under."""

    onnx_path: Path
    manifest: ModelManifest
    settings: BuildSettings
    key: EngineKey


@dataclass(frozen=True)
class BuildStatus:
    """Where a build stands: idle, building, ready (valid engine cached) or failed."""

    state: str
    detail: str = ""
    path: Optional[Path] = None


def plan_build(identity: DeviceIdentity, profile: DeviceProfile, record: ModelRecord,
               caps: TrtCapabilities, calibration_cache: Optional[Path] = None) -> BuildRequest:
    """Settings and cache key for `record` on this device.

    INT8 calibration: `calibration_cache` (chosen and validated by the caller from the
    calibration store, see pipeline/calibration_choice.py), else a `<name>.calib` next to the
    model; its sha256 is part of the engine key, so a new cache means a new engine.
    """
    calib = calibration_cache or record.onnx_path.with_name(record.name + CALIBRATION_SUFFIX)
    settings = decide_build_settings(profile, record.manifest, caps,
                                     calib if calib.is_file() else None)
    key = EngineKey(
        model_name=record.name, model_sha256=record.sha256, device=identity.device_id,
        tensorrt_version=caps.version, precision=settings.precision,
        batch_max=settings.batch_max, dla_core=settings.dla_core,
        calibration_sha256=settings.calibration_sha256, gpu_fallback=settings.gpu_fallback,
        batch_min=settings.batch_min, batch_opt=settings.batch_opt,
    )
    return BuildRequest(record.onnx_path, record.manifest, settings, key)


def smoke_feeds(request: BuildRequest) -> Dict[str, np.ndarray]:
    """Zeros at each input's minimum shape, in the manifest's canonical dtype."""
    dtypes = {entry.name: entry.dtypes[0] for entry in request.manifest.inputs}
    return {p.name: np.zeros(p.min_shape, dtype=dtypes.get(p.name, "float32"))
            for p in request.settings.inputs}


def smoke_test(backend: InferenceBackend, request: BuildRequest) -> None:
    """Run once; RuntimeError unless every manifest output comes back with an accepted dtype."""
    outputs = backend.run(smoke_feeds(request))
    for spec in request.manifest.output_specs():
        if spec.name not in outputs:
            raise RuntimeError(f"smoke inference: output {spec.name!r} missing")
        array = outputs[spec.name]
        if not spec.accepts_dtype(array.dtype.name) or not spec.accepts_shape(array.shape):
            raise RuntimeError(f"smoke inference: {spec.name} is {array.dtype.name}"
                               f"{list(array.shape)}, contract {list(spec.dtypes)}"
                               f"{list(spec.shape)}")


class EngineBuilder:
    """One background build at a time; results land in the cache only after a smoke inference."""

    def __init__(self, toolkit: EngineToolkit, cache: EngineCache,
                 progress: Optional[Progress] = None, elapsed_every_s: float = 15.0,
                 on_finish: Optional[Callable[[BuildStatus], None]] = None) -> None:
        self._toolkit = toolkit
        self._on_finish = on_finish  # called on the build thread with the final status
        self._cache = cache
        self._progress = progress or (lambda line: logger.info("engine build: %s", line))
        self._elapsed_every_s = elapsed_every_s
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._status = BuildStatus("idle")

    @property
    def status(self) -> BuildStatus:
        """The latest state; cheap, never blocks on the build."""
        with self._lock:
            return self._status

    def _set(self, status: BuildStatus) -> None:
        with self._lock:
            self._status = status

    def request(self, request: BuildRequest) -> BuildStatus:
        """Start building unless a valid engine is cached or a build is running; returns at once."""
        verdict = self._cache.check(request.key)
        if verdict.valid:
            self._set(BuildStatus("ready", "cached", verdict.path))
            return self.status
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self._status
            self._status = BuildStatus("building", verdict.detail)
            self._thread = threading.Thread(target=self._run, args=(request,),
                                            name="engine-build", daemon=False)
            self._thread.start()
        return self.status

    def wait(self, timeout_s: Optional[float] = None) -> BuildStatus:
        """Block until the current build ends (CLI use); the agent never calls this."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return self.status

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask TensorRT to abandon the build (via the progress monitor) and join the thread."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def build_now(self, request: BuildRequest) -> BuildStatus:
        """Synchronous build through the same path (used by `edge-agent engines build`)."""
        self.request(request)
        return self.wait()

    def _run(self, request: BuildRequest) -> None:
        try:
            # One build per device at a time (build_lock.py); a cached engine that appeared
            # while waiting (the other build made it) is used as it is.
            with exclusive_build(self._cache.directory, self._cancel, self._progress):
                verdict = self._cache.check(request.key)
                path = verdict.path if verdict.valid else self._build(request)
        except Exception as exc:  # noqa: BLE001 - a failed build must not kill the agent
            logger.warning("engine build for %s failed: %s", request.key.model_name, exc)
            self._set(BuildStatus("failed", str(exc)))
        else:
            self._set(BuildStatus("ready", "built", path))
        if self._on_finish is not None:
            try:
                self._on_finish(self.status)
            except Exception:  # noqa: BLE001 - the callback's failure is logged, not raised
                logger.exception("engine build callback failed")

    def _build(self, request: BuildRequest) -> Path:
        verdict = self._cache.check(request.key)
        if verdict.status in ("corrupt", "foreign"):
            self._progress(f"cached engine {verdict.path.name} is {verdict.status} "
                           f"({verdict.detail}); rebuilding, it will not be loaded")
        for note in request.settings.notes:
            self._progress(note)
        started = time.monotonic()
        ticker = None
        done = threading.Event()
        if not self._toolkit.has_progress_monitor:
            ticker = threading.Thread(target=self._tick, args=(started, done),
                                      name="engine-build-elapsed", daemon=True)
            ticker.start()
        try:
            built = self._toolkit.build(request.onnx_path, request.settings, self._progress,
                                        self._cancel)
        finally:
            done.set()
            if ticker is not None:
                ticker.join()
        if self._cancel.is_set():
            raise RuntimeError("cancelled")
        if not isinstance(built, BuiltPlan):  # a toolkit without placement reporting
            built = BuiltPlan(built)
        plan = built.plan
        backend = self._toolkit.load(plan)
        try:
            smoke_test(backend, request)
        finally:
            backend.close()
        elapsed_s = time.monotonic() - started
        extra: Dict[str, object] = {"build_s": round(elapsed_s, 1),
                                    "built_unix": int(time.time())}
        extra.update(built.metadata())
        path = self._cache.store(request.key, plan, extra)
        self._progress(f"engine ready after {elapsed_s:.0f} s: {path}")
        return path

    def _tick(self, started: float, done: threading.Event) -> None:
        while not done.wait(self._elapsed_every_s):
            self._progress(f"building... {time.monotonic() - started:.0f} s elapsed")
