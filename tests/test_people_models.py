"""PeopleNet decode, ReID preprocessing and multi-camera batching, on known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from edge_agent.frames import Frame
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models import peoplenet, reid
from edge_agent.models.detect_cluster import dbscan_labels, iou_matrix, nms
from edge_agent.models.standin import write_standin
from edge_agent.pipeline.people_engine import PeopleEngine


def grids_with_person(box_net: List[float], cells: List[tuple], cov: float) -> tuple:
    """cov/bbox grids where every listed (row, col) cell predicts the same net-px box."""
    cov_g = np.zeros((3, 34, 60), np.float32)
    bbox_g = np.zeros((12, 34, 60), np.float32)
    x1, y1, x2, y2 = box_net
    for j, i in cells:
        cx, cy = 16 * i + 0.5, 16 * j + 0.5
        cov_g[0, j, i] = cov
        bbox_g[0:4, j, i] = [(cx - x1) / 35, (cy - y1) / 35, (x2 - cx) / 35, (y2 - cy) / 35]
    return cov_g, bbox_g


def test_grid_decode_matches_the_contract_formula() -> None:
    cov, bbox = grids_with_person([100, 50, 180, 250], [(5, 8)], 0.9)
    boxes, scores = peoplenet.decode_candidates(cov, bbox, 0, 0.4)
    np.testing.assert_allclose(boxes, [[100, 50, 180, 250]], atol=1e-4)
    assert scores.tolist() == pytest.approx([0.9])
    # nvinfer (NMS mode): values >= W become W - 1, negatives 0
    cov, bbox = grids_with_person([-20, -5, 990, 600], [(0, 0)], 0.9)
    boxes, _ = peoplenet.decode_candidates(cov, bbox, 0, 0.4, "nms")
    np.testing.assert_allclose(boxes, [[0, 0, 959, 543]], atol=1e-4)
    # TAO / Triton (DBSCAN mode): clip to [0, W] x [0, H]
    boxes, _ = peoplenet.decode_candidates(cov, bbox, 0, 0.4, "dbscan")
    np.testing.assert_allclose(boxes, [[0, 0, 960, 544]], atol=1e-4)


@pytest.mark.parametrize("mode, expected", [
    # nvinfer leaves a value in [W-1, W) alone and only replaces values >= W
    ("nms", [[900.0, 400.0, 959.5, 543.25]]),
    ("dbscan", [[900.0, 400.0, 959.5, 543.25]]),
])
def test_edge_box_just_inside_the_frame_is_kept_as_is(mode: str, expected: list) -> None:
    cov, bbox = grids_with_person([900, 400, 959.5, 543.25], [(30, 58)], 0.9)
    boxes, _ = peoplenet.decode_candidates(cov, bbox, 0, 0.4, mode)
    np.testing.assert_allclose(boxes, expected, atol=1e-3)


@pytest.mark.parametrize("mode, right, bottom", [
    ("nms", 959 * 2.0, 543 * 1080 / 544),  # nvinfer: 1 net px short = 2 frame px
    ("dbscan", 1920.0, 1080.0),  # TAO / Triton: at the edge
])
def test_person_cut_by_the_right_and_bottom_edge(mode: str, right: float, bottom: float) -> None:
    """A person walking out at the bottom-right corner of a 1920x1080 frame."""
    cells = [(j, i) for j in range(26, 34) for i in range(54, 60)]
    cov, bbox = grids_with_person([880, 380, 1000, 600], cells, 0.6)
    thresholds = (0.4, 0.2, 0.2) if mode == "nms" else (0.9, 0.9, 0.7)
    params = peoplenet.ClusterParams(mode=mode, thresholds=thresholds)
    det = peoplenet.decode_frame(cov, bbox, (1920, 1080), params)
    assert len(det) == 1
    np.testing.assert_allclose(det.boxes[0][2:], [right, bottom], rtol=1e-5)
    assert 0.0 <= float(det.scores[0]) <= 1.0


def test_nms_merges_cells_and_scales_to_frame() -> None:
    cells = [(j, i) for j in range(4, 15) for i in range(6, 11)]
    cov, bbox = grids_with_person([100, 60, 170, 240], cells, 0.8)
    cov[0, 9, 8] = 0.95
    det = peoplenet.decode_frame(cov, bbox, (1920, 1088), peoplenet.ClusterParams())
    assert len(det) == 1 and det.scores[0] == pytest.approx(0.95)
    np.testing.assert_allclose(det.boxes[0], [200, 120, 340, 480], atol=1e-3)


def test_thresholds_are_per_class() -> None:
    cov, bbox = grids_with_person([100, 60, 170, 240], [(5, 8)], 0.3)
    cov[1], bbox[4:8] = cov[0], bbox[0:4]  # same cell as a "bag" at 0.3
    params = peoplenet.ClusterParams(classes=(0, 1))
    det = peoplenet.decode_frame(cov, bbox, (960, 544), params)
    assert det.class_ids.tolist() == [1]  # person needs 0.4, bag 0.2


def test_dbscan_sums_coverage_and_averages_boxes() -> None:
    cells = [(j, i) for j in range(4, 7) for i in range(6, 8)]
    cov, bbox = grids_with_person([100, 60, 170, 240], cells, 0.5)
    params = peoplenet.ClusterParams(mode="dbscan", thresholds=(0.9, 0.9, 0.7))
    det = peoplenet.decode_frame(cov, bbox, (960, 544), params)
    # TAO's confidence is the coverage sum (3.0); it passed the 0.9 threshold and is capped
    # at 1 for the tracker, which accepts scores in [0, 1] only.
    assert len(det) == 1 and det.scores[0] == pytest.approx(1.0)
    np.testing.assert_allclose(det.boxes[0], [100, 60, 170, 240], atol=1e-3)
    # a single weak cell is noise: its weight 0.5 < min_samples 1
    cov, bbox = grids_with_person([100, 60, 170, 240], [(5, 8)], 0.5)
    assert len(peoplenet.decode_frame(cov, bbox, (960, 544), params)) == 0


def test_cluster_helpers_known_answers() -> None:
    a = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    assert iou_matrix(a, a)[0, 1] == pytest.approx(50 / 150)
    assert nms(a, np.array([0.5, 0.9, 0.7]), 0.3, 0.0, 20).tolist() == [1, 2]
    assert nms(a, np.array([0.5, 0.9, 0.7]), 0.4, 0.0, 20).tolist() == [1, 2, 0]
    dist = 1.0 - iou_matrix(a, a)
    assert dbscan_labels(dist, np.ones(3), 0.7, 2.0).tolist() == [0, 0, -1]


def test_reid_preprocess_normalisation() -> None:
    crop = np.zeros((40, 20, 3), np.uint8)
    crop[..., 2] = 255  # pure red in BGR
    blob = reid.preprocess_crops([crop])
    assert blob.shape == (1, 3, 256, 128)
    np.testing.assert_allclose(blob[0, :, 0, 0], [(1 - 0.485) / 0.226, -0.456 / 0.226,
                                                  -0.406 / 0.226], rtol=1e-4)
    crops = reid.crop_boxes(np.zeros((100, 50, 3), np.uint8), np.array([[-5, -5, 500, 20],
                                                                        [60, 90, 70, 95]]))
    assert [c.shape[:2] for c in crops] == [(20, 50), (5, 1)]
    unit = reid.l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0, 0]])


@pytest.fixture(scope="module")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    out = tmp_path_factory.mktemp("models")
    return {n: write_standin(n, out) for n in ("peoplenet", "reidentificationnet")}


def frame(camera: str, squares: List[tuple], size: tuple = (640, 480)) -> Frame:
    pixels = np.full((size[1], size[0], 3), 255, np.uint8)
    for x, y, w, h in squares:
        pixels[y : y + h, x : x + w] = (20, 40, 45) if camera == "a" else (45, 40, 20)
    return Frame(camera, 1, 0.0, 0.0, pixels)


def test_several_cameras_share_one_batch(standins: Dict[str, Path]) -> None:
    det = OnnxRuntimeBackend(standins["peoplenet"], [])
    emb = OnnxRuntimeBackend(standins["reidentificationnet"], [])
    engine = PeopleEngine(det, peoplenet.ClusterParams(), 2, emb, 16, 256)
    # 960x544 frames: net pixels = frame pixels, so a dark 32x32 square = 4 cells
    frames = [frame("a", [(320, 160, 32, 32)], (960, 544)),
              frame("b", [(64, 64, 16, 16)], (960, 544))]
    result = engine.infer(frames)
    assert result.detector_calls == 1 and result.reid_calls == 1
    counts = [len(r.detections) for r in result.results]
    assert counts == [1, 1], "a dark blob is one person"
    np.testing.assert_allclose(result.results[1].detections.boxes, [[64, 64, 80, 80]])
    for r in result.results:
        assert r.embeddings is not None
        np.testing.assert_allclose(np.linalg.norm(r.embeddings, axis=1), 1.0, rtol=1e-5)
    # batched equals one camera at a time
    alone = engine.infer([frames[1]])
    np.testing.assert_allclose(alone.results[0].embeddings, result.results[1].embeddings,
                               atol=1e-5)
    engine.close()


def test_embedding_size_mismatch_is_refused(standins: Dict[str, Path]) -> None:
    from edge_agent.errors import ModelContractError

    det = OnnxRuntimeBackend(standins["peoplenet"], [])
    emb = OnnxRuntimeBackend(standins["reidentificationnet"], [])
    with pytest.raises(ModelContractError) as caught:
        PeopleEngine(det, peoplenet.ClusterParams(), 2, emb, 16, 128)
    assert "models.tracking.embedding_size" in caught.value.problem
