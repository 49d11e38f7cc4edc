"""Body poses of tracked people: BodyPose3DNet skeletons and PoseClassificationNet actions.

Pure library code; the task runtime feeds it frames, track boxes and model outputs:

* crop_geometry / models.bodypose3d: the person crop and input tensors exactly as the
  DeepStream reference apps build them, and the decode of `pose25d` into frame pixels;
* one_euro / lifting / skeleton: per-track smoothing and the 2.5D -> 3D lifting;
* sequence: per-track ring buffers resampled to the classifier's frame rate;
* normalise / layouts / models.poseclass / hysteresis: the classifier input, its output and
  a class that does not flicker;
* pose_events / events.pose_payloads: when a pose event fires, per-zone counts by class;
* render: skeletons drawn on a frame; synthetic / eval_*: labelled kinematic sequences and
  `edge-agent eval poseclass`.

See docs/pose.md.
"""
