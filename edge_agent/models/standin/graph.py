"""Small helpers every stand-in builder shares, so each builder reads as its behaviour only.

Stand-ins must be byte-for-byte reproducible (their sha256 is recorded next to them and tests
compare two writes), so everything here is deterministic: weights come from a seeded legacy
numpy RandomState whose stream numpy promises never to change, the producer fields are fixed,
and nothing time- or host-dependent enters the graph. Opset 17 with IR version 8 is the newest
pair that ONNX Runtime 1.16 (the oldest release Python 3.8 / JetPack 5 installs) loads.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edge_agent.models.tensor_spec import TensorSpec

OPSET = 17
IR_VERSION = 8
PRODUCER_NAME = "edge-agent-standin"
# Bump when any builder's graph changes, so sidecars tell which generator made a file.
GENERATOR_VERSION = "2"

_ONNX_TYPES: Dict[str, int] = {
    "float32": TensorProto.FLOAT,
    "float16": TensorProto.FLOAT16,
    "float64": TensorProto.DOUBLE,
    "int64": TensorProto.INT64,
    "int32": TensorProto.INT32,
    "int16": TensorProto.INT16,
    "int8": TensorProto.INT8,
    "uint8": TensorProto.UINT8,
    "bool": TensorProto.BOOL,
}


def weights(seed: int, shape: Sequence[int], scale: float = 1.0) -> np.ndarray:
    """Fixed pseudo-random float32 weights: same seed, same values on every machine."""
    rng = np.random.RandomState(seed)
    return (rng.standard_normal(size=tuple(shape)) * scale).astype(np.float32)


def value_info(spec: TensorSpec) -> onnx.ValueInfoProto:
    """Graph input/output declaration with the contract's canonical dtype and symbolic dims."""
    return helper.make_tensor_value_info(spec.name, _ONNX_TYPES[spec.dtypes[0]], list(spec.shape))


class GraphBuilder:
    """Collects nodes and constant initializers with unique, readable names."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._count = 0
        self.nodes: List[onnx.NodeProto] = []
        self.initializers: List[onnx.TensorProto] = []

    def _fresh(self, hint: str) -> str:
        self._count += 1
        return f"{self._prefix}/{hint}_{self._count}"

    def const(self, value: np.ndarray, hint: str = "const") -> str:
        """Add an initializer holding `value` (dtype kept) and return its name."""
        name = self._fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name=name))
        return name

    def f32(self, value: object, hint: str = "const") -> str:
        """Float32 constant from a scalar or nested list."""
        return self.const(np.asarray(value, dtype=np.float32), hint)

    def i64(self, value: object, hint: str = "shape") -> str:
        """Int64 constant (shapes, axes, slice bounds)."""
        return self.const(np.asarray(value, dtype=np.int64), hint)

    def op(
        self, op_type: str, inputs: Sequence[str], output: Optional[str] = None, **attrs: Any
    ) -> str:
        """Append one node; `output` pins the name (graph outputs), else a fresh one is made."""
        out = output if output is not None else self._fresh(op_type.lower())
        self.nodes.append(
            helper.make_node(op_type, list(inputs), [out], name=f"{out}_node", **attrs)
        )
        return out

    def conv(self, x: str, c_in: int, c_out: int, seed: int, stride: int = 1) -> str:
        """3x3 same-padding convolution with He-scaled fixed weights, followed by Relu."""
        w = self.const(weights(seed, (c_out, c_in, 3, 3), (2.0 / (9 * c_in)) ** 0.5), "conv_w")
        b = self.f32(np.zeros(c_out), "conv_b")
        y = self.op("Conv", [x, w, b], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                    strides=[stride, stride])
        return self.op("Relu", [y])

    def model(
        self,
        graph_name: str,
        inputs: Sequence[TensorSpec],
        outputs: Sequence[TensorSpec],
        doc: str,
    ) -> onnx.ModelProto:
        """Wrap the collected nodes into a checked, shape-inferred-valid ONNX model."""
        graph = helper.make_graph(
            self.nodes,
            graph_name,
            [value_info(s) for s in inputs],
            [value_info(s) for s in outputs],
            initializer=self.initializers,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name=PRODUCER_NAME,
            producer_version=GENERATOR_VERSION,
            doc_string=doc,
        )
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model, full_check=True)
        return model
