"""Skeleton drawing: bones where the joints are, nothing for unseen joints, frame untouched."""

from __future__ import annotations

import numpy as np

from edge_agent.pose.render import CENTRE, LEFT, RIGHT, RenderPerson, bone_colour, draw_people
from edge_agent.pose.synthetic import class_motion, pose_body
from edge_agent.pose.synthetic_dataset import project_25d


def _keypoints() -> np.ndarray:
    angles, _, _ = class_motion("standing", 1, np.random.RandomState(0))
    pixels, _ = project_25d(pose_body(angles) + np.array([0.0, 0.0, 3000.0]))
    return pixels[0]


def test_bones_are_drawn_in_side_colours_and_the_frame_is_not_modified() -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    keypoints = _keypoints()
    image = draw_people(frame, [RenderPerson(keypoints_px=keypoints)])
    assert not frame.any()
    assert bone_colour(20, 22) == LEFT and bone_colour(21, 23) == RIGHT
    assert bone_colour(0, 1) == LEFT and bone_colour(6, 15) == CENTRE
    # Middle of the left upper arm carries the left colour.
    mid = np.rint((keypoints[20] + keypoints[22]) / 2).astype(int)
    assert tuple(image[mid[1], mid[0]]) == LEFT


def test_low_confidence_joints_and_their_bones_are_left_out_and_boxes_get_ids() -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    keypoints = _keypoints()
    confidence = np.ones(34)
    confidence[[22, 24]] = 0.1  # left elbow and wrist unsure
    image = draw_people(frame, [RenderPerson(keypoints_px=keypoints, confidence=confidence)],
                        min_confidence=0.5)
    forearm = np.rint((keypoints[22] + keypoints[24]) / 2).astype(int)
    assert not image[forearm[1] - 1 : forearm[1] + 2, forearm[0] - 1 : forearm[0] + 2].any()
    nan_points = np.full((34, 2), np.nan)
    boxed = draw_people(frame, [RenderPerson(box_xyxy=[10, 20, 110, 220], track_id=7,
                                             label="sitting", keypoints_px=nan_points)])
    assert boxed[20, 50].any() and boxed[120, 10].any()  # top and left edges of the box
    assert boxed[5:18, 10:100].any()  # the "#7 sitting" caption above it
