"""Stand-in for BodyPose3DNet: a fixed standing skeleton, nudged by the crop's brightness.

Behaviour (what tests and the pipeline may rely on), per batch item, with b = mean of `input0`
over all channels and pixels (0..1 for an x/255 input):

* 2D joints: the template below, in 192x256 crop pixels with the pelvis (joint 0) at the crop
  centre (96, 128), every joint shifted down by 4 * (b - 0.5) px, so the output depends on the
  input but stays within 2 px of the template for any valid crop;
* zRel: the template's depth of each joint relative to the pelvis, in mm (pelvis 0);
* confidence: sigmoid(2 + b) for every joint, in (0.88, 0.96);
* `pose2d` [N,34,3] = (x, y, conf); `pose25d` [N,34,4] = (x, y, zRel, conf);
* `pose2d_org_img` [N,34,3] = first two components of t_form_inv @ (x, y, 1), then conf
  (no perspective divide: the transform is affine; identity in the DeepStream samples);
* `pose3d` [N,34,3] = (k_inv @ (x, y, 1)) * (6000 + zRel): the joints back-projected to a
  pelvis depth of 6 m, in mm (about a 1.7 m tall person with the DeepStream k_inv);
* the two limb-length inputs are consumed (summed and added with weight 0) so the graph
  declares and uses every input of the real model, but they never change the result.
"""

from __future__ import annotations

import numpy as np
import onnx

from edge_agent.models.manifest import ModelManifest
from edge_agent.models.standin.graph import GraphBuilder

CROP_CENTRE_PX = (96.0, 128.0)
PELVIS_DEPTH_MM = 6000.0
SHIFT_PER_BRIGHTNESS_PX = 4.0
CONF_BIAS = 2.0

# (dx px, dy px, zRel mm) from the pelvis, joints in the NVIDIA 34-joint order; the person
# faces the camera, so their left side is on the image's right (+x).
TEMPLATE = (
    (0, 0, 0), (14, 0, 0), (-14, 0, 0), (0, -30, 0), (14, 55, 0), (-14, 55, 0),  # pelvis..knees
    (0, -70, 0), (14, 105, 0), (-14, 105, 0),  # neck, ankles
    (16, 115, -80), (-16, 115, -80), (22, 113, -60), (-22, 113, -60),  # toes
    (14, 112, 30), (-14, 112, 30),  # heels
    (0, -90, -60), (5, -95, -50), (-5, -95, -50), (10, -92, -10), (-10, -92, -10),  # face
    (24, -66, 0), (-24, -66, 0), (30, -35, 0), (-30, -35, 0),  # shoulders, elbows
    (32, -5, -20), (-32, -5, -20),  # wrists
    (34, 3, -20), (-34, 3, -20), (33, 12, -20), (-33, 12, -20),  # pinky knuckles, middle tips
    (31, 4, -25), (-31, 4, -25), (28, 6, -30), (-28, 6, -30),  # index knuckles, thumb tips
)


def template_joints() -> np.ndarray:
    """[34,3] float32: x px, y px (crop coordinates) and zRel mm of the resting skeleton."""
    t = np.asarray(TEMPLATE, dtype=np.float32)
    t[:, 0] += CROP_CENTRE_PX[0]
    t[:, 1] += CROP_CENTRE_PX[1]
    return t


def build_bodypose3d(manifest: ModelManifest) -> onnx.ModelProto:
    """Graph for the BodyPose3DNet manifest (inputs and outputs looked up by name)."""
    ins = {s.name: s for s in manifest.input_specs()}
    outs = {s.name: s for s in manifest.output_specs()}
    joints = int(outs["pose25d"].shape[1])
    tpl = template_joints()[:joints]

    g = GraphBuilder("bodypose3d")
    b = g.op("ReduceMean", ["input0"], axes=[1, 2, 3], keepdims=0)  # [N]
    b = g.op("Reshape", [b, g.i64([-1, 1, 1])])  # [N,1,1]

    shift = np.zeros((1, joints, 2), np.float32)
    shift[..., 1] = SHIFT_PER_BRIGHTNESS_PX
    nudge = g.op("Mul", [g.op("Sub", [b, g.f32(0.5)]), g.f32(shift)])
    xy = g.op("Add", [nudge, g.f32(tpl[None, :, :2])])  # [N,J,2]
    zero_col = g.op("Mul", [b, g.f32(np.zeros((1, joints, 1)))])  # [N,J,1] zeros
    conf = g.op("Sigmoid", [g.op("Add", [zero_col, g.op("Add", [b, g.f32(CONF_BIAS)])])])
    z_rel = g.op("Add", [zero_col, g.f32(tpl[None, :, 2:3])])
    hom = g.op("Concat", [xy, g.op("Add", [zero_col, g.f32(1.0)])], axis=2)  # [N,J,3]

    g.op("Concat", [xy, conf], output="pose2d", axis=2)
    g.op("Concat", [xy, z_rel, conf], output="pose25d", axis=2)

    t_inv_t = g.op("Transpose", ["t_form_inv"], perm=[0, 2, 1])
    mapped = g.op("MatMul", [hom, t_inv_t])
    mapped_xy = g.op("Slice", [mapped, g.i64([0]), g.i64([2]), g.i64([2])])
    g.op("Concat", [mapped_xy, conf], output="pose2d_org_img", axis=2)

    rays = g.op("MatMul", [hom, g.op("Transpose", ["k_inv"], perm=[0, 2, 1])])
    depth = g.op("Add", [z_rel, g.f32(PELVIS_DEPTH_MM)])
    limbs = g.op(
        "Add",
        [
            g.op("ReduceSum", ["mean_limb_lengths", g.i64([1])], keepdims=1),
            g.op("ReduceSum", ["scale_normalized_mean_limb_lengths", g.i64([1])], keepdims=1),
        ],
    )  # [N,1]
    unused = g.op("Reshape", [g.op("Mul", [limbs, g.f32(0.0)]), g.i64([-1, 1, 1])])
    g.op("Add", [g.op("Mul", [rays, depth]), unused], output="pose3d")

    return g.model(
        manifest.name,
        [ins[name] for name in ins],
        [outs[name] for name in outs],
        "edge-agent stand-in for BodyPose3DNet: template standing skeleton.",
    )
