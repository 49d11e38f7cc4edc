"""Stand-in for a user-supplied human-part model (FC-HarDNet class), any number of classes.

Behaviour (what tests and the pipeline may rely on), for C classes (C >= 2, taken from the
manifest's output shape, which must match its label count):

* input: the normalised RGB crop [N,3,H,W] (manifest preprocessing);
* a pixel is **person** where the mean of its three normalised channels is below -1.0 (with the
  manifest's ImageNet normalisation: grey values darker than about 56), else **background (0)**;
* a person pixel in row r gets part class 1 + floor(r * (C - 1) / H): the crop is cut into
  C - 1 equal horizontal bands, top band = class 1 (with MHP v2.0 labels, Cap/Hat);
* output: logits [N,C,H,W], 10 for the pixel's class and 0 elsewhere, so argmax is exact.

A fixed convolution stack on the crop at 1/4 resolution (multiplied by exactly 0) gives the
stand-in a cost to benchmark without changing the answer.

`with_class_count` makes the manifest of a C-class variant (generic labels `part_1`...), so a
test or a user can write a stand-in matching their own model's class count.
"""

from __future__ import annotations

from typing import List, Union

import numpy as np
import onnx

from edge_agent.models.manifest import ModelManifest, TensorEntry
from edge_agent.models.standin.graph import GraphBuilder

DARK_THRESHOLD = -1.0
_GAIN = 10.0
_LOAD_DEPTH = 4
_LOAD_WIDTH = 32


def band_class(row: int, height: int, classes: int) -> int:
    """The stand-in's part class for a person pixel in `row` of a `height`-row crop."""
    return 1 + (row * (classes - 1)) // height


def with_class_count(manifest: ModelManifest, classes: int) -> ModelManifest:
    """The same contract with `classes` output classes: background then part_1, part_2, ..."""
    if classes < 2:
        raise ValueError(f"a part model needs at least 2 classes (background + one), "
                         f"got {classes}")
    (out,) = manifest.outputs
    shape: List[Union[int, str]] = list(out.shape)
    shape[1] = classes
    labels = manifest.labels[:classes] if len(manifest.labels) >= classes else (
        ["background"] + [f"part_{i}" for i in range(1, classes)])
    return manifest.model_copy(update={
        "labels": labels,
        "outputs": [TensorEntry(name=out.name, dtypes=out.dtypes, shape=shape,
                                layout=out.layout)]})


def build_human_parts(manifest: ModelManifest) -> onnx.ModelProto:
    """Graph for a human_parts manifest (class count from its output shape)."""
    (inp,) = manifest.input_specs()
    (out,) = manifest.output_specs()
    height = int(inp.shape[2])
    classes = int(out.shape[1])
    if classes < 2 or len(manifest.labels) != classes:
        raise ValueError(f"{manifest.name}: output has {classes} classes but labels list "
                         f"{len(manifest.labels)}; they must agree and be at least 2")

    bands = np.zeros((1, classes, height, 1), np.float32)
    for row in range(height):
        bands[0, band_class(row, height, classes), row, 0] = _GAIN
    background = np.zeros((1, classes, 1, 1), np.float32)
    background[0, 0] = _GAIN

    g = GraphBuilder("human_parts")
    mean = g.op("ReduceMean", [inp.name], axes=[1], keepdims=1)  # [N,1,H,W]
    person = g.op("Cast", [g.op("Less", [mean, g.f32(DARK_THRESHOLD)])],
                  to=onnx.TensorProto.FLOAT)
    rest = g.op("Sub", [g.f32(1.0), person])
    logits = g.op("Add", [g.op("Mul", [person, g.f32(bands)]),
                          g.op("Mul", [rest, g.f32(background)])])  # [N,C,H,W]

    h = g.conv(inp.name, 3, 16, seed=401, stride=2)
    h = g.conv(h, 16, _LOAD_WIDTH, seed=402, stride=2)
    for layer in range(_LOAD_DEPTH):
        h = g.conv(h, _LOAD_WIDTH, _LOAD_WIDTH, seed=410 + layer)
    load = g.op("ReduceMean", [g.op("GlobalAveragePool", [h])], axes=[1], keepdims=1)
    g.op("Add", [logits, g.op("Mul", [load, g.f32(0.0)])], output=out.name)
    return g.model(manifest.name, [inp], [out],
                   f"edge-agent stand-in for {manifest.title}: dark pixels split into "
                   f"{classes - 1} horizontal part bands.")
