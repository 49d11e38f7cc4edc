"""FAKE of edge_agent.inference.tensorrt_api at the TensorRT/pycuda hardware boundary.

No GPU exists in CI, so this stands in for TensorRtToolkit: `build` returns a deterministic
"plan" (the settings as JSON) and `load` returns a backend that answers with zeros shaped by the
model's contract. Knobs make it fail, produce a wrong output, or block until released, so tests
can drive the EngineBuilder through failures and prove the agent is never blocked.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from edge_agent.inference.tensorrt_settings import BuildSettings, TrtCapabilities
from edge_agent.models.manifest import ModelManifest
from edge_agent.models.tensor_spec import TensorSpec


class FakeEngine:
    """FAKE engine: zeros in the manifest's output shapes (batch from the input)."""

    def __init__(self, manifest: ModelManifest, drop_output: bool = False) -> None:
        self._manifest = manifest
        self._drop_output = drop_output
        self.closed = False

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        return self._manifest.input_specs()

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        return self._manifest.output_specs()

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        batch = next(iter(feeds.values())).shape[0]
        out = {}
        for spec in self._manifest.output_specs():
            shape = tuple(batch if not isinstance(d, int) else d for d in spec.shape)
            out[spec.name] = np.zeros(shape, dtype=spec.dtypes[0])
        if self._drop_output:
            out.pop(next(iter(out)))
        return out

    def close(self) -> None:
        self.closed = True


class FakeToolkit:
    """FAKE TensorRtToolkit."""

    def __init__(self, manifest: ModelManifest, caps: Optional[TrtCapabilities] = None,
                 monitor: bool = True) -> None:
        self.manifest = manifest
        self.caps = caps or TrtCapabilities("8.5.2.2", True, True, 2)
        self.monitor = monitor
        self.fail_build = False
        self.bad_output = False
        self.gate: Optional[threading.Event] = None  # build waits on it when set
        self.builds: List[BuildSettings] = []
        self.loaded: List[bytes] = []

    @property
    def has_progress_monitor(self) -> bool:
        return self.monitor

    def capabilities(self) -> TrtCapabilities:
        return self.caps

    def build(self, onnx_path: Path, settings: BuildSettings, progress: object,
              cancel: threading.Event) -> bytes:
        self.builds.append(settings)
        if self.gate is not None:
            while not self.gate.wait(0.01):
                if cancel.is_set():
                    raise RuntimeError("cancelled")
        if self.fail_build:
            raise RuntimeError("FAKE build failure")
        progress("Building engine: 1/1")  # type: ignore[operator]
        return json.dumps({"fake_plan": settings.model_name,
                           "precision": settings.precision}).encode()

    def load(self, plan: bytes) -> FakeEngine:
        self.loaded.append(plan)
        return FakeEngine(self.manifest, drop_output=self.bad_output)


class OnnxFakeEngine:
    """FAKE TensorRT engine that computes real outputs by running the ONNX in onnxruntime.

    It reports what a real engine reports (tensorrt_api.TensorRtEngine): named inputs and
    outputs, the dynamic batch dimension as 'N', INT64 outputs bound as INT32 (TensorRT's ONNX
    parser narrows them), and it rejects a batch above the optimization profile's maximum as
    TensorRT's set_input_shape does. `mismatch` renames the outputs, as an engine built from
    another model would be.
    """

    def __init__(self, onnx_path: str, batch_max: int, mismatch: bool) -> None:
        import onnxruntime

        self._session: Optional[onnxruntime.InferenceSession] = onnxruntime.InferenceSession(
            onnx_path, providers=["CPUExecutionProvider"])
        self.batch_max = batch_max
        self._rename = "_other" if mismatch else ""
        self.runs = 0
        self.closed = False

    @staticmethod
    def _dtype(ort_type: str) -> str:
        return {"tensor(float)": "float32", "tensor(int64)": "int32",
                "tensor(int32)": "int32"}[ort_type]

    def _specs(self, nodes: Sequence[object], rename: str) -> Sequence[TensorSpec]:
        return [TensorSpec(name=n.name + rename, dtypes=(self._dtype(n.type),),  # type: ignore[attr-defined]
                           shape=tuple(d if isinstance(d, int) else "N" for d in n.shape))  # type: ignore[attr-defined]
                for n in nodes]

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        assert self._session is not None
        return self._specs(self._session.get_inputs(), "")

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        assert self._session is not None
        return self._specs(self._session.get_outputs(), self._rename)

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        if self._session is None:
            raise RuntimeError("FAKE engine used after close()")
        for name, array in feeds.items():
            if array.shape[0] > self.batch_max:
                raise RuntimeError(f"FAKE set_input_shape({name}, {array.shape}) outside the "
                                   f"optimization profile (batch <= {self.batch_max})")
        self.runs += 1
        names = [o.name for o in self._session.get_outputs()]
        results = self._session.run(names, dict(feeds))
        return {name + self._rename: (r.astype(np.int32) if r.dtype == np.int64 else r)
                for name, r in zip(names, results)}

    def close(self) -> None:
        self._session = None
        self.closed = True


class OnnxFakeToolkit(FakeToolkit):
    """FAKE TensorRtToolkit whose "plan" names the ONNX; its engines compute real outputs."""

    def __init__(self, manifest: ModelManifest, caps: Optional[TrtCapabilities] = None,
                 monitor: bool = True) -> None:
        super().__init__(manifest, caps, monitor)
        self.mismatch = False  # engines built from now on have renamed outputs
        self.engines: List[OnnxFakeEngine] = []

    def build(self, onnx_path: Path, settings: BuildSettings, progress: object,
              cancel: threading.Event) -> bytes:
        super().build(onnx_path, settings, progress, cancel)
        return json.dumps({"fake_plan": settings.model_name, "onnx": str(onnx_path),
                           "batch_max": settings.batch_max,
                           "mismatch": self.mismatch}).encode()

    def load(self, plan: bytes) -> OnnxFakeEngine:  # type: ignore[override]
        self.loaded.append(plan)
        try:
            spec = json.loads(plan.decode("utf-8"))
        except ValueError as exc:
            raise RuntimeError("FAKE: TensorRT could not deserialize the engine") from exc
        engine = OnnxFakeEngine(spec["onnx"], int(spec["batch_max"]), bool(spec["mismatch"]))
        self.engines.append(engine)
        return engine
