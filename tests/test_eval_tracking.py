"""`edge-agent eval tracking|reid` on public and synthetic ground truth with known answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np
import pytest

from edge_agent.cli.main import main
from edge_agent.errors import ExitCode
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


def jittered_ground_truth(seed: int) -> Tuple[List[str], List[int]]:
    """TUD-Campus GT boxes, 10 % dropped, each coordinate jittered by N(0, 5 % of the box
    size), ids removed; also the true id of every line (to build embeddings)."""
    rng = np.random.default_rng(seed)
    lines, ids = [], []
    for raw in (TUD / "gt.txt").read_text().splitlines():
        f, pid, left, top, w, h = (float(v) for v in raw.split(",")[:6])
        if rng.random() < 0.1:
            continue
        j = rng.normal(0.0, 0.05, 4)
        x1, y1 = left + j[0] * w, top + j[1] * h
        x2, y2 = left + w + j[2] * w, top + h + j[3] * h
        lines.append(f"{int(f)},-1,{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},1,-1,-1,-1")
        ids.append(int(pid))
    return lines, ids


def test_public_ground_truth_matches_motmetrics_reference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run_json(capsys, "eval", "tracking", "--gt", str(TUD / "gt.txt"), "--hyp",
                   str(TUD / "test.txt"), "--json")
    assert out["mota"] == pytest.approx(0.526462, abs=1e-6)
    assert out["idf1"] == pytest.approx(0.557659, abs=1e-6)
    assert (out["id_switches"], out["false_positives"], out["misses"]) == (7, 13, 150)
    assert (out["mostly_tracked"], out["mostly_lost"], out["objects"]) == (1, 1, 8)
    assert out["appearance"] is False and out["replayed"] is False


def test_replaying_ground_truth_scores_only_the_published_predictions_as_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run_json(capsys, "eval", "tracking", "--gt", str(TUD / "gt.txt"), "--hyp",
                   str(TUD / "gt.txt"), "--replay", "--frame-size", "640x480", "--json")
    # Every box found with its own identity and exact box; the only errors are the 7
    # predicted boxes (0.3 s at 25 fps) published for person 6, who vanishes behind
    # another walker at frame 9: a subscriber does receive them.
    assert (out["misses"], out["id_switches"], out["motp"], out["num_frames"]) == (0, 0, 0.0, 71)
    assert out["false_positives"] == 7 and out["mostly_tracked"] == 8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_target_on_jittered_ground_truth_with_and_without_appearance(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, ids = jittered_ground_truth(seed)
    (tmp_path / "det.txt").write_text("\n".join(lines))
    argv = ["eval", "tracking", "--gt", str(TUD / "gt.txt"), "--hyp", str(tmp_path / "det.txt"),
            "--replay", "--frame-size", "640x480", "--json"]
    motion = run_json(capsys, *argv)
    assert motion["mota"] >= 0.94 and motion["idf1"] >= 0.95, motion
    assert motion["appearance"] is False
    # One appearance vector per person plus noise, as a ReID model would give.
    rng = np.random.default_rng(seed)
    people = rng.normal(size=(20, 32))
    emb = people[ids] + rng.normal(0.0, 0.1, size=(len(ids), 32))
    np.save(tmp_path / "emb.npy", emb)
    both = run_json(capsys, *argv, "--embeddings", str(tmp_path / "emb.npy"))
    assert both["appearance"] is True
    assert both["mota"] >= 0.94 and both["idf1"] >= 0.95, both


def test_target_on_cem_boxes_without_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [line.split(",") for line in (TUD / "test.txt").read_text().splitlines() if line]
    (tmp_path / "cem.txt").write_text("\n".join(",".join([r[0], "-1"] + r[2:]) for r in rows))
    out = run_json(capsys, "eval", "tracking", "--gt", str(TUD / "gt.txt"), "--hyp",
                   str(tmp_path / "cem.txt"), "--replay", "--frame-size", "640x480", "--json")
    # CEM itself: 0.526 / 0.558 (first test).
    assert out["mota"] >= 0.55 and out["idf1"] >= 0.58, out


def test_replay_scores_what_is_published_through_a_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt, det = [], []
    for f in range(1, 41):
        for pid, x in ((1, 10 + 5 * f), (2, 600 - 5 * f)):
            gt.append(f"{f},{pid},{x},100,50,120,1,-1,-1,-1")
            if not (pid == 1 and 20 <= f < 25):  # person 1 missed for 5 frames (0.5 s)
                det.append(f"{f},-1,{x},100,50,120,0.9,-1,-1,-1")
    (tmp_path / "gt.txt").write_text("\n".join(gt))
    (tmp_path / "det.txt").write_text("\n".join(det))
    out = run_json(capsys, "eval", "tracking", "--gt", str(tmp_path / "gt.txt"), "--hyp",
                   str(tmp_path / "det.txt"), "--replay", "--fps", "10", "--json",
                   "--save", str(tmp_path / "out.txt"))
    # Confident boxes confirm at once; frames 20-22 are published as predictions (lost for
    # <= 0.3 s), frames 23-24 are not published at all: 2 misses of 80.
    assert out["mota"] == pytest.approx(1 - 2 / 80)
    assert out["id_switches"] == 0 and out["false_positives"] == 0
    saved = (tmp_path / "out.txt").read_text().splitlines()
    assert len(saved) == 78


def test_ignored_and_distractor_ground_truth_is_neither_hit_nor_false_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt = ["1,1,10,10,50,100,1,1,1", "1,2,200,10,50,100,0,1,1",  # consider flag 0
          "1,3,400,10,50,100,1,7,1",  # static person: distractor
          "1,4,500,300,80,40,1,3,1"]  # a car: not a person at all
    hyp = ["1,1,10,10,50,100,1,-1,-1,-1", "1,2,200,10,50,100,1,-1,-1,-1",
           "1,3,400,10,50,100,1,-1,-1,-1"]
    (tmp_path / "gt.txt").write_text("\n".join(gt))
    (tmp_path / "hyp.txt").write_text("\n".join(hyp))
    out = run_json(capsys, "eval", "tracking", "--gt", str(tmp_path / "gt.txt"), "--hyp",
                   str(tmp_path / "hyp.txt"), "--json")
    assert (out["mota"], out["false_positives"], out["misses"], out["objects"]) == (1.0, 0, 0, 1)


@pytest.mark.parametrize("line, problem", [
    ("1,1,10,10,50,100,1,1,1,1,7", "gt.txt:2 has 11 columns"),
    ("1,1,10,10,50", "gt.txt:2 has 5 columns"),
    ("1,1,10,10,fifty,100,1", "gt.txt:2 is not a MOTChallenge row"),
    ("1,1,10,10,50,100,1,42,1", "gt.txt:2 has class 42"),
])
def test_bad_ground_truth_line_is_named(
    line: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gt.txt").write_text("1,1,10,10,50,100,1,1,1\n" + line + "\n")
    code = main(["eval", "tracking", "--gt", str(tmp_path / "gt.txt"), "--hyp",
                 str(tmp_path / "gt.txt")])
    err = capsys.readouterr().err
    assert code == ExitCode.CONFIG and problem in err and "Traceback" not in err


def test_text_output_says_whether_appearance_was_used(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["eval", "tracking", "--gt", str(TUD / "gt.txt"), "--hyp",
                 str(TUD / "test.txt"), "--replay"]) == 0
    out = capsys.readouterr().out
    assert "not used (motion only)" in out and "mota" in out and "mostly_lost" in out


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
