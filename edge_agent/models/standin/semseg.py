"""Stand-in for both PeopleSemSegNet variants (vanilla UNet and ShuffleSeg).

Behaviour (what tests and the pipeline may rely on):

* input: the normalised BGR frame, y = (x - 127.5) / 127.5, shape [N,3,544,960];
* the brightest channel of each pixel is averaged over a 5x5 window (edges averaged over the
  pixels that exist); a pixel is **person (1)** where that local value is < -0.6, i.e. darker
  than pixel value 51 in every channel, and **background (0)** elsewhere, ties included. Dark
  clothing passes, grass and tarmac (brightest channel 90-200 in OpenCV's vtest.avi) do not.
  A black frame is all person, a white frame all background, exactly;
* output `argmax_1`: INT64 [N,544,960,1], computed as the real exporter does, by
  ArgMax(axis=-1, keepdims=1) over an NHWC two-class logits tensor.

So that benchmarks on the stand-in mean something, a fixed-weight convolution stack (the
"load" branch, cost comparable to a small segmentation net) runs on every frame; its pooled
output is multiplied by exactly 0 and added to the logits, so it costs time but never changes
the answer. `depth` sets its cost: ShuffleSeg uses the light stack, vanilla UNet twice as many
layers.
"""

from __future__ import annotations

import onnx

from edge_agent.models.manifest import ModelManifest
from edge_agent.models.standin.graph import GraphBuilder

# Layers of the load branch run at 1/4 resolution (136x240), 48 channels. Measured with ONNX
# Runtime 1.31 on a 2-core x86 CPU at batch 1: about 54 ms (ShuffleSeg) and 101 ms (vanilla).
SHUFFLESEG_DEPTH = 8
VANILLA_UNET_DEPTH = 16
_WIDTH = 48
_LOGIT_GAIN = 10.0
# Normalized value of pixel 51: (51 - 127.5) / 127.5.
_DARK_THRESHOLD = -0.6


def build_semseg(manifest: ModelManifest, depth: int) -> onnx.ModelProto:
    """Graph for a PeopleSemSegNet manifest; names and shapes come from the manifest."""
    (inp,) = manifest.input_specs()
    (out,) = manifest.output_specs()
    g = GraphBuilder("semseg")
    x = inp.name

    # The rule: person logit = gain * (threshold - local brightest channel), background 0.
    brightest = g.op("ReduceMax", [x], axes=[1], keepdims=1)  # [N,1,H,W]
    local = g.op(
        "AveragePool", [brightest], kernel_shape=[5, 5], pads=[2, 2, 2, 2], count_include_pad=0
    )
    person = g.op("Mul", [g.op("Sub", [g.f32(_DARK_THRESHOLD), local]), g.f32(_LOGIT_GAIN)])
    background = g.op("Mul", [person, g.f32(0.0)])
    logits = g.op("Concat", [background, person], axis=1)  # [N,2,H,W]

    # The load: strided stem to 1/4 resolution, `depth` 3x3 convs, pooled to one number.
    h = g.conv(x, 3, 16, seed=1, stride=2)
    h = g.conv(h, 16, _WIDTH, seed=2, stride=2)
    for layer in range(depth):
        h = g.conv(h, _WIDTH, _WIDTH, seed=10 + layer)
    pooled = g.op("GlobalAveragePool", [h])  # [N,C,1,1]
    load = g.op("ReduceMean", [pooled], axes=[1], keepdims=1)  # [N,1,1,1]
    logits = g.op("Add", [logits, g.op("Mul", [load, g.f32(0.0)])])

    nhwc = g.op("Transpose", [logits], perm=[0, 2, 3, 1])
    g.op("ArgMax", [nhwc], output=out.name, axis=-1, keepdims=1)
    return g.model(
        manifest.name,
        [inp],
        [out],
        f"edge-agent stand-in for {manifest.title}: person where locally dark in every channel.",
    )


def build_shuffleseg(manifest: ModelManifest) -> onnx.ModelProto:
    """ShuffleSeg stand-in: the light load branch."""
    return build_semseg(manifest, SHUFFLESEG_DEPTH)


def build_vanilla_unet(manifest: ModelManifest) -> onnx.ModelProto:
    """Vanilla UNet stand-in: twice the load of ShuffleSeg, as the real nets differ."""
    return build_semseg(manifest, VANILLA_UNET_DEPTH)
