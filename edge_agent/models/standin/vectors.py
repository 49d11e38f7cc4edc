"""Stand-ins for the two small-vector models: ReIdentificationNet and PoseClassificationNet.

Both reduce their input to a short summary and apply a fixed random linear map, which is all
the tracker and the action classifier need to be exercised end to end: equal inputs give equal
outputs, similar inputs similar outputs, different inputs different ones.

ReIdentificationNet, `input` [N,3,256,128] -> `fc_pred` [N,256]:
  the normalised crop is average-pooled over 16x16 blocks into a 3x16x8 grid (384 values),
  flattened (channel, row, column order) and multiplied by a fixed 384x256 matrix W
  (seed 101, entries N(0, 1/384)); no bias. The result is **not** L2-normalised, like the real
  BN-neck feature, so callers must normalise before cosine matching. Crops that differ only by
  small noise pool to almost the same grid (cosine ~1); crops with different colour layouts
  give clearly different vectors.

PoseClassificationNet, `input` [N,3,300,34,1] -> `fc_pred` [N,6] logits:
  the mean over the 300 frames (axis T) gives 3x34 values, flattened (coordinate, joint order)
  and multiplied by a fixed 102x6 matrix (seed 202, entries N(0, 1/102)) plus a fixed bias
  (seed 203, N(0, 0.1)). An all-zero input therefore returns exactly that bias.
"""

from __future__ import annotations

import onnx

from edge_agent.models.manifest import ModelManifest
from edge_agent.models.standin.graph import GraphBuilder, weights

REID_POOL_PX = 16
REID_SEED = 101
POSECLASS_SEEDS = (202, 203)


def build_reid(manifest: ModelManifest) -> onnx.ModelProto:
    """Graph for the ReIdentificationNet manifest."""
    (inp,) = manifest.input_specs()
    (out,) = manifest.output_specs()
    channels, height, width = (int(d) for d in inp.shape[1:])
    features = int(out.shape[1])
    rows = channels * (height // REID_POOL_PX) * (width // REID_POOL_PX)

    g = GraphBuilder("reid")
    grid = g.op(
        "AveragePool",
        [inp.name],
        kernel_shape=[REID_POOL_PX, REID_POOL_PX],
        strides=[REID_POOL_PX, REID_POOL_PX],
    )
    flat = g.op("Flatten", [grid], axis=1)  # [N,384]
    w = g.const(weights(REID_SEED, (rows, features), (1.0 / rows) ** 0.5), "fc_w")
    g.op("MatMul", [flat, w], output=out.name)
    return g.model(
        manifest.name,
        [inp],
        [out],
        "edge-agent stand-in for ReIdentificationNet: fixed projection of a 16x16-pooled crop.",
    )


def build_poseclass(manifest: ModelManifest) -> onnx.ModelProto:
    """Graph for the PoseClassificationNet manifest."""
    (inp,) = manifest.input_specs()
    (out,) = manifest.output_specs()
    coords, joints, persons = int(inp.shape[1]), int(inp.shape[3]), int(inp.shape[4])
    classes = int(out.shape[1])
    rows = coords * joints * persons

    g = GraphBuilder("poseclass")
    mean_t = g.op("ReduceMean", [inp.name], axes=[2], keepdims=0)  # [N,3,34,1]
    flat = g.op("Flatten", [mean_t], axis=1)  # [N,102]
    w = g.const(weights(POSECLASS_SEEDS[0], (rows, classes), (1.0 / rows) ** 0.5), "fc_w")
    b = g.const(weights(POSECLASS_SEEDS[1], (classes,), 0.1), "fc_b")
    g.op("Add", [g.op("MatMul", [flat, w]), b], output=out.name)
    return g.model(
        manifest.name,
        [inp],
        [out],
        "edge-agent stand-in for PoseClassificationNet: linear map of the time-mean skeleton.",
    )
