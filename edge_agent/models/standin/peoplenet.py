"""Stand-in for PeopleNet (DetectNet_v2): coverage and box grids that the real decoder can read.

Behaviour (what tests and the pipeline may rely on):

* input `input_1:0`: RGB frame scaled x/255, shape [N,3,544,960];
* the frame is cut into the 34x60 grid of 16x16-pixel cells; m = the cell's mean over pixels
  and channels (0 = black, 1 = white);
* `output_cov/Sigmoid:0` [N,3,34,60]: class 0 (person) = sigmoid(20 * (0.5 - m)), so a black
  cell gives 0.99995, a white one 0.00005 and mid-grey exactly 0.5 (not above it); classes 1 (bag)
  and 2 (face) = sigmoid(20 * (0.5 - m) - 30) < 5e-5 everywhere, so they never fire;
* `output_bbox/BiasAdd:0` [N,12,34,60]: the same offsets in every cell and class,
  o = (0.5, 0.5, 15.5, 15.5) / 35, chosen so that the standard grid decode
  (cx = 16 i + 0.5, x1 = cx - 35 o0, y1 = cy - 35 o1, x2 = cx + 35 o2, y2 = cy + 35 o3)
  gives exactly the cell itself: x1 = 16 i, x2 = 16 i + 16, y1 = 16 j, y2 = 16 j + 16.

A dark square drawn on a white frame therefore yields confident person boxes tiling the square,
which clustering merges into one box around it.
"""

from __future__ import annotations

import numpy as np
import onnx

from edge_agent.models.manifest import ModelManifest
from edge_agent.models.standin.graph import GraphBuilder

STRIDE_PX = 16
BBOX_NORM = 35.0
_GAIN = 20.0
_QUIET_CLASS_BIAS = -30.0


def cell_offsets() -> np.ndarray:
    """The four normalised offsets (x1, y1, x2, y2) that decode to exactly one grid cell."""
    return np.array([0.5, 0.5, STRIDE_PX - 0.5, STRIDE_PX - 0.5], dtype=np.float32) / BBOX_NORM


def build_peoplenet(manifest: ModelManifest) -> onnx.ModelProto:
    """Graph for the PeopleNet manifest (one input, outputs cov then bbox by name)."""
    (inp,) = manifest.input_specs()
    outs = {spec.name: spec for spec in manifest.output_specs()}
    cov_name = next(n for n in outs if n.startswith("output_cov"))
    bbox_name = next(n for n in outs if n.startswith("output_bbox"))
    num_classes = len(manifest.labels)

    g = GraphBuilder("peoplenet")
    grey = g.op("ReduceMean", [inp.name], axes=[1], keepdims=1)  # [N,1,544,960]
    cell = g.op(
        "AveragePool", [grey], kernel_shape=[STRIDE_PX, STRIDE_PX], strides=[STRIDE_PX, STRIDE_PX]
    )  # [N,1,34,60]
    person = g.op("Add", [g.op("Mul", [cell, g.f32(-_GAIN)]), g.f32(_GAIN * 0.5)])
    quiet = g.op("Add", [person, g.f32(_QUIET_CLASS_BIAS)])
    pre = g.op("Concat", [person] + [quiet] * (num_classes - 1), axis=1)  # [N,3,34,60]
    g.op("Sigmoid", [pre], output=cov_name)

    per_channel = np.tile(cell_offsets(), num_classes).reshape(1, 4 * num_classes, 1, 1)
    zeros = g.f32(np.zeros_like(per_channel))
    spread = g.op("Mul", [cell, zeros])  # [N,12,34,60] of zeros, batch from the input
    g.op("Add", [spread, g.f32(per_channel)], output=bbox_name)

    ordered = [outs[n] for n in outs]
    return g.model(
        manifest.name,
        [inp],
        ordered,
        "edge-agent stand-in for PeopleNet: dark 16x16 cells are persons, box = the cell.",
    )
