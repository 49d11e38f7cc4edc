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

from edge_agent.inference.backend import TensorSpec
from edge_agent.inference.tensorrt_settings import BuildSettings, TrtCapabilities
from edge_agent.models.manifest import ModelManifest


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
