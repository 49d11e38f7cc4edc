"""Which backend serves a model right now, as one word for telemetry and the status line.

Why: on `models.backend = "tensorrt"` a model may serve from ONNX Runtime on the CPU for
minutes (its engine is building) or for good (the build failed), and a fleet operator sees
only throughput. The word says which: 'onnxruntime' (configured so), 'tensorrt-building'
(CPU while the engine builds), 'onnxruntime-cpu' (TensorRT was asked for but no usable
engine exists; the log says why) or 'tensorrt'. Backends that can change it expose a
`serving` attribute (HotSwapBackend, TensorRtBackend); anything else is plain ONNX Runtime.
"""

from __future__ import annotations

from edge_agent.inference.backend import InferenceBackend

ONNXRUNTIME = "onnxruntime"
ONNXRUNTIME_CPU = "onnxruntime-cpu"
TENSORRT_BUILDING = "tensorrt-building"
TENSORRT = "tensorrt"
SERVING_LABELS = (ONNXRUNTIME, ONNXRUNTIME_CPU, TENSORRT_BUILDING, TENSORRT)


def serving_backend(backend: InferenceBackend) -> str:
    """The backend's `serving` word, or 'onnxruntime' when it has none."""
    label = getattr(backend, "serving", None)
    return label if isinstance(label, str) else ONNXRUNTIME
