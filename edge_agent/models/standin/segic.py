"""Stand-ins for SegIC: a prompt extractor and a segmenter that agree on a colour-matching rule.

The real pair finds, in a target image, the things that look like the masked region of a
prompt image. The stand-ins keep exactly that contract with the simplest possible notion of
"look like": the same colour.

segic_prompt_feature_extract (`images` [P,3,896,896] 0..255 RGB, `labels` [P,1,896,896] 0..255,
`tokens` INT32 [P,64], `ori_sizes` INT32 [P,2]):

* `inst_feats` [P,1024]: entries 0..2 = mean RGB of the image under the mask (weights
  labels/255), divided by 255, so in [0,1]; every other entry 0. An empty mask gives (0,0,0);
* `input_prompts` [P,256]: tokens / 32768 times a fixed 64x256 matrix (seed 301, N(0, 1/64));
  `ori_sizes` is consumed with weight 0.

segic (`images` [1,3,896,896], `ori_sizes` INT32 [1,2] = (h, w) before padding,
`input_prompts` [P,256], `inst_feats` [P,1024]):

* `masks_pred` [P,1,896,896] logits: with c = inst_feats[p, 0:3] and d2 the squared RGB
  distance between pixel/255 and c, logit = 1000 * (0.01 - d2), i.e. > 0 exactly where the
  pixel's colour is within 0.1 (about 25 levels) of the prompt colour; pixels in the padding
  (row >= h or column >= w) get -20. `input_prompts` is consumed with weight 0.
"""

from __future__ import annotations

import numpy as np
import onnx

from edge_agent.models.manifest import ModelManifest
from edge_agent.models.standin.graph import GraphBuilder, weights

COLOUR_RADIUS = 0.1
_GAIN = 1000.0
PAD_LOGIT = -20.0
_TOKEN_SCALE = 1.0 / 32768.0
_PROMPT_SEED = 301


def build_prompt_extract(manifest: ModelManifest) -> onnx.ModelProto:
    """Graph for the segic_prompt_feature_extract manifest."""
    ins = {s.name: s for s in manifest.input_specs()}
    outs = {s.name: s for s in manifest.output_specs()}
    n_tokens = int(ins["tokens"].shape[1])
    prompt_dim = int(outs["input_prompts"].shape[1])
    feat_dim = int(outs["inst_feats"].shape[1])

    g = GraphBuilder("segic_prompt")
    hw_axes = g.i64([2, 3])
    weight = g.op("Mul", ["labels", g.f32(1.0 / 255.0)])  # [P,1,H,W]
    num = g.op("ReduceSum", [g.op("Mul", ["images", weight]), hw_axes], keepdims=0)  # [P,3]
    den = g.op("ReduceSum", [weight, hw_axes], keepdims=0)  # [P,1]
    colour = g.op("Div", [num, g.op("Add", [g.op("Mul", [den, g.f32(255.0)]), g.f32(1e-6)])])
    select = np.zeros((3, feat_dim), np.float32)
    select[0, 0] = select[1, 1] = select[2, 2] = 1.0
    sizes = g.op("Cast", ["ori_sizes"], to=onnx.TensorProto.FLOAT)  # [P,2]
    unused = g.op("Mul", [g.op("ReduceSum", [sizes, g.i64([1])], keepdims=1), g.f32(0.0)])
    g.op("Add", [g.op("MatMul", [colour, g.f32(select)]), unused], output="inst_feats")

    tokens = g.op("Cast", ["tokens"], to=onnx.TensorProto.FLOAT)
    tokens = g.op("Mul", [tokens, g.f32(_TOKEN_SCALE)])
    w = g.const(weights(_PROMPT_SEED, (n_tokens, prompt_dim), (1.0 / n_tokens) ** 0.5), "text_w")
    g.op("MatMul", [tokens, w], output="input_prompts")
    return g.model(
        manifest.name,
        [ins[n] for n in ins],
        [outs[n] for n in outs],
        "edge-agent stand-in for the SegIC prompt extractor: mean colour under the mask.",
    )


def build_segic(manifest: ModelManifest) -> onnx.ModelProto:
    """Graph for the segic manifest."""
    ins = {s.name: s for s in manifest.input_specs()}
    (out,) = manifest.output_specs()
    height, width = int(ins["images"].shape[2]), int(ins["images"].shape[3])

    g = GraphBuilder("segic")
    colour = g.op("Slice", ["inst_feats", g.i64([0]), g.i64([3]), g.i64([1])])  # [P,3]
    colour = g.op("Reshape", [colour, g.i64([-1, 3, 1, 1])])
    pixels = g.op("Mul", ["images", g.f32(1.0 / 255.0)])  # [1,3,H,W]
    diff = g.op("Sub", [pixels, colour])  # [P,3,H,W]
    d2 = g.op("ReduceSum", [g.op("Mul", [diff, diff]), g.i64([1])], keepdims=1)  # [P,1,H,W]
    logit = g.op("Mul", [g.op("Sub", [g.f32(COLOUR_RADIUS**2), d2]), g.f32(_GAIN)])

    sizes = g.op("Cast", ["ori_sizes"], to=onnx.TensorProto.FLOAT)  # [1,2]
    h = g.op("Reshape", [g.op("Slice", [sizes, g.i64([0]), g.i64([1]), g.i64([1])]),
                         g.i64([1, 1, 1, 1])])
    w = g.op("Reshape", [g.op("Slice", [sizes, g.i64([1]), g.i64([2]), g.i64([1])]),
                         g.i64([1, 1, 1, 1])])
    rows = g.f32(np.arange(height, dtype=np.float32).reshape(1, 1, height, 1))
    cols = g.f32(np.arange(width, dtype=np.float32).reshape(1, 1, 1, width))
    row_ok = g.op("Cast", [g.op("Less", [rows, h])], to=onnx.TensorProto.FLOAT)
    col_ok = g.op("Cast", [g.op("Less", [cols, w])], to=onnx.TensorProto.FLOAT)
    valid = g.op("Mul", [row_ok, col_ok])  # [1,1,H,W]
    inside = g.op("Mul", [valid, g.op("Sub", [logit, g.f32(PAD_LOGIT)])])
    masked = g.op("Add", [inside, g.f32(PAD_LOGIT)])

    prompts = g.op("ReduceSum", ["input_prompts", g.i64([1])], keepdims=1)  # [P,1]
    unused = g.op("Reshape", [g.op("Mul", [prompts, g.f32(0.0)]), g.i64([-1, 1, 1, 1])])
    g.op("Add", [masked, unused], output=out.name)
    return g.model(
        manifest.name,
        [ins[n] for n in ins],
        [out],
        "edge-agent stand-in for SegIC: pixels within 0.1 of the prompt colour are the mask.",
    )
