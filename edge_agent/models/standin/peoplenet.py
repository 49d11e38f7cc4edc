"""Stand-in for PeopleNet (DetectNet_v2): coverage and box grids that the real decoder can read.

Behaviour (what tests and the pipeline may rely on):

* input `input_1:0`: RGB frame scaled x/255, shape [N,3,544,960];
* a pixel is dark when its brightest channel is below 0.2 (pixel value 51), the rule of the
  segmentation stand-in: dark clothing passes, grass and tarmac do not; the frame is cut into
  the 34x60 grid of 16x16-pixel cells and f = the share of dark pixels in a cell (0..1);
* `output_cov/Sigmoid:0` [N,3,34,60]: class 0 (person) = sigmoid(20 * (f - 0.25)), so an all-
  dark cell gives 0.9999997, a light one 0.0067, and a cell exactly a quarter dark 0.5; a cell
  is **dark** when f > 0.25 (coverage above 0.5); with DeepStream's person threshold 0.4 a cell
  is detected from f >= 0.23. Classes 1 (bag) and 2 (face) = sigmoid(20 * (f - 0.25) - 30)
  < 5e-7 everywhere, so they never fire;
* `output_bbox/BiasAdd:0` [N,12,34,60]: every cell predicts the bounding box of the dark cells
  inside a window of 2*WINDOW_X_CELLS+1 columns by 2*WINDOW_Y_CELLS+1 rows centred on it
  (5 x 11 cells, 80 x 176 net pixels), encoded with the standard grid decode
  (cx = 16 i + 0.5, x1 = cx - 35 o0, y1 = cy - 35 o1, x2 = cx + 35 o2, y2 = cy + 35 o3), the
  same offsets for all three classes. A lone dark cell therefore decodes to exactly itself.

Why the window: a real detector predicts, from every cell a person covers, a box around the
whole person, and NMS merges those near-identical boxes into one. Predicting each cell's own
16x16 box instead would make a person-sized blob decode to dozens of touching, non-overlapping
boxes that no NMS merges. With the window, every dark cell of a blob up to 3 x 6 cells
(48 x 96 net pixels, a person in a 768x576 street scene) predicts the same box around the
whole blob, so NMS leaves exactly one; larger blobs give overlapping boxes. The price,
documented: two dark blobs closer than the window (2 cells across, 5 up or down) are boxed
together. Cells outside any
dark area carry meaningless offsets, as in the real model; their coverage keeps them out.
All of it is fixed arithmetic (pooling and min/max), so the output is deterministic.
"""

from __future__ import annotations

import numpy as np
import onnx

from edge_agent.models.manifest import ModelManifest
from edge_agent.models.standin.graph import GraphBuilder

STRIDE_PX = 16
BBOX_NORM = 35.0
CELL_OFFSET = 0.5
WINDOW_X_CELLS = 2
WINDOW_Y_CELLS = 5
DARK_PIXEL = 0.2  # brightest channel below this (x/255) is a dark pixel
DARK_SHARE = 0.25  # a cell with more dark pixels than this is a person cell
_GAIN = 20.0
_QUIET_CLASS_BIAS = -30.0
_FAR_PX = 1.0e5  # larger than any net coordinate; turns a min into a max


def _window_max(g: GraphBuilder, x: str) -> str:
    """Max over the (2 WINDOW_Y + 1) x (2 WINDOW_X + 1) window around each cell."""
    return g.op(
        "MaxPool",
        [x],
        kernel_shape=[2 * WINDOW_Y_CELLS + 1, 2 * WINDOW_X_CELLS + 1],
        pads=[WINDOW_Y_CELLS, WINDOW_X_CELLS, WINDOW_Y_CELLS, WINDOW_X_CELLS],
        strides=[1, 1],
    )


def _box_offsets(g: GraphBuilder, dark: str, rows: int, cols: int) -> str:
    """[N,4,rows,cols] offsets of the dark extent in each cell's window (grid-decode form)."""
    col = np.arange(cols, dtype=np.float32).reshape(1, 1, 1, cols) * STRIDE_PX
    row = np.arange(rows, dtype=np.float32).reshape(1, 1, rows, 1) * STRIDE_PX
    col = np.broadcast_to(col, (1, 1, rows, cols))
    row = np.broadcast_to(row, (1, 1, rows, cols))
    # min(edge over dark cells) = FAR - max(dark * (FAR - edge)); non-dark cells contribute 0.
    x1 = g.op("Sub", [g.f32(_FAR_PX), _window_max(g, g.op("Mul", [dark, g.f32(_FAR_PX - col)]))])
    y1 = g.op("Sub", [g.f32(_FAR_PX), _window_max(g, g.op("Mul", [dark, g.f32(_FAR_PX - row)]))])
    x2 = _window_max(g, g.op("Mul", [dark, g.f32(col + STRIDE_PX)]))
    y2 = _window_max(g, g.op("Mul", [dark, g.f32(row + STRIDE_PX)]))
    cx, cy = g.f32(col + CELL_OFFSET), g.f32(row + CELL_OFFSET)
    norm = g.f32(1.0 / BBOX_NORM)
    o0 = g.op("Mul", [g.op("Sub", [cx, x1]), norm])
    o1 = g.op("Mul", [g.op("Sub", [cy, y1]), norm])
    o2 = g.op("Mul", [g.op("Sub", [x2, cx]), norm])
    o3 = g.op("Mul", [g.op("Sub", [y2, cy]), norm])
    return g.op("Concat", [o0, o1, o2, o3], axis=1)


def build_peoplenet(manifest: ModelManifest) -> onnx.ModelProto:
    """Graph for the PeopleNet manifest (one input, outputs cov then bbox by name)."""
    (inp,) = manifest.input_specs()
    outs = {spec.name: spec for spec in manifest.output_specs()}
    cov_name = next(n for n in outs if n.startswith("output_cov"))
    bbox_name = next(n for n in outs if n.startswith("output_bbox"))
    rows, cols = (int(d) for d in outs[cov_name].shape[2:])
    num_classes = len(manifest.labels)

    g = GraphBuilder("peoplenet")
    brightest = g.op("ReduceMax", [inp.name], axes=[1], keepdims=1)  # [N,1,544,960]
    dark_px = g.op("Cast", [g.op("Less", [brightest, g.f32(DARK_PIXEL)])],
                   to=onnx.TensorProto.FLOAT)
    share = g.op(
        "AveragePool", [dark_px], kernel_shape=[STRIDE_PX, STRIDE_PX],
        strides=[STRIDE_PX, STRIDE_PX],
    )  # [N,1,34,60]
    person = g.op("Mul", [g.op("Sub", [share, g.f32(DARK_SHARE)]), g.f32(_GAIN)])
    quiet = g.op("Add", [person, g.f32(_QUIET_CLASS_BIAS)])
    pre = g.op("Concat", [person] + [quiet] * (num_classes - 1), axis=1)  # [N,3,34,60]
    g.op("Sigmoid", [pre], output=cov_name)

    dark = g.op("Cast", [g.op("Greater", [share, g.f32(DARK_SHARE)])], to=onnx.TensorProto.FLOAT)
    offsets = _box_offsets(g, dark, rows, cols)  # [N,4,34,60]
    g.op("Concat", [offsets] * num_classes, axis=1, output=bbox_name)  # [N,12,34,60]

    ordered = [outs[n] for n in outs]
    return g.model(
        manifest.name,
        [inp],
        ordered,
        "edge-agent stand-in for PeopleNet: dark 16x16 cells are persons, box = the dark "
        "extent in a 5x11-cell window around the cell.",
    )
