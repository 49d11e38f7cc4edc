"""`edge-agent eval tracking|reid` on public and synthetic ground truth with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.cli.main import main
from edge_agent.eval.reid_eval import evaluate as reid_evaluate
from edge_agent.eval.reid_eval import parse_market_name
from edge_agent.models.standin import write_standin

motmetrics = pytest.importorskip("motmetrics")
# TUD-Campus ships inside py-motmetrics (MIT licence, motmetrics/data); its own test suite
# (tests/test_metrics.py::test_motchallenge_files) expects MOTA 0.526462, IDF1 0.557659 and
# 7 ID switches for test.txt against gt.txt.
TUD = Path(motmetrics.__file__).parent / "data" / "TUD-Campus"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(list(argv)) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_public_ground_truth_matches_motmetrics_reference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run_json(capsys, "eval", "tracking", "--gt", str(TUD / "gt.txt"), "--hyp",
                   str(TUD / "test.txt"), "--json")
    assert out["mota"] == pytest.approx(0.526462, abs=1e-6)
    assert out["idf1"] == pytest.approx(0.557659, abs=1e-6)
    assert out["id_switches"] == 7


def test_replaying_ground_truth_through_the_tracker_is_perfect(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run_json(capsys, "eval", "tracking", "--gt", str(TUD / "gt.txt"), "--hyp",
                   str(TUD / "gt.txt"), "--replay", "--min-hits", "1", "--json")
    assert out == {"mota": 1.0, "idf1": 1.0, "id_switches": 0, "num_frames": 71}


def test_replay_of_synthetic_detections_with_a_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt, det = [], []
    for f in range(1, 41):
        for pid, x in ((1, 10 + 5 * f), (2, 600 - 5 * f)):
            gt.append(f"{f},{pid},{x},100,50,120,1,-1,-1,-1")
            if not (pid == 1 and 20 <= f < 25):  # person 1 missed for 5 frames
                det.append(f"{f},-1,{x},100,50,120,0.9,-1,-1,-1")
    (tmp_path / "gt.txt").write_text("\n".join(gt))
    (tmp_path / "det.txt").write_text("\n".join(det))
    out = run_json(capsys, "eval", "tracking", "--gt", str(tmp_path / "gt.txt"), "--hyp",
                   str(tmp_path / "det.txt"), "--replay", "--fps", "10", "--json")
    # 2 x 2 frames before confirmation + 5 missed frames = 9 misses of 80
    assert out["mota"] == pytest.approx(1 - 9 / 80)
    assert out["id_switches"] == 0


def test_reid_metrics_known_answers() -> None:
    q = np.eye(3)[[0, 1]]
    gallery = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1], [0.8, 0.6, 0]])
    gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
    # query 0 = person 1 cam 1: gallery 0 is person 1 cam 1 (ignored), gallery 1 person 1
    # cam 2 (rank 1); query 1 = person 2 cam 1: gallery 4 is person 2 but ranks 2nd
    scores = reid_evaluate(q, [1, 2], [1, 1], gallery, [1, 1, 3, 4, 2], [1, 2, 2, 2, 2])
    assert scores.queries == 2
    assert scores.rank1 == pytest.approx(0.5) and scores.rank5 == pytest.approx(1.0)
    assert scores.mean_ap == pytest.approx((1.0 + 0.5) / 2)
    assert parse_market_name("0001_c1s1_01_00.jpg") == (1, 1)
    assert parse_market_name("-1_c3s2_000001_00.jpg") == (-1, 3)


def test_eval_reid_on_a_market_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    colours = {1: (0, 0, 255), 2: (0, 255, 0), 3: (255, 0, 0)}
    for split, cam in (("query", 1), ("bounding_box_test", 2)):
        (tmp_path / split).mkdir()
        for pid, colour in colours.items():
            image = np.full((128, 64, 3), colour, np.uint8)
            image[: 64 * (pid % 2)] = 255 - np.array(colour, np.uint8)
            cv2.imwrite(str(tmp_path / split / f"{pid:04d}_c{cam}s1_000001_00.jpg"), image)
    write_standin("reidentificationnet", tmp_path / "models")
    out = run_json(capsys, "eval", "reid", str(tmp_path), "--models-dir",
                   str(tmp_path / "models"), "--json")
    assert out["rank1"] == 1.0 and out["mAP"] == 1.0 and out["standin"] is True
