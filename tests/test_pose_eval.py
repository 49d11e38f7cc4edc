"""`edge-agent eval poseclass` end to end with real ONNX Runtime: stand-in, trained probe,
the card's data format, the confusion PNG, and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
import pytest

from edge_agent.cli.main import main
from edge_agent.errors import ExitCode
from edge_agent.models.standin import write_standin
from edge_agent.pose import linear_probe
from edge_agent.pose.synthetic_dataset import (
    read_card_format,
    synthetic_dataset,
    write_card_format,
)


def _run(capsys: pytest.CaptureFixture[str], argv: List[str]) -> Dict[str, Any]:
    assert main(argv) == ExitCode.OK
    result: Dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


@pytest.fixture(scope="module")
def standin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("standin")
    write_standin("poseclassificationnet", out)
    return out


def test_standin_on_synthetic_sequences_with_png_and_saved_card_format(
    standin_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "confusion.png"
    saved = tmp_path / "set"
    result = _run(capsys, ["eval", "poseclass", "--models-dir", str(standin_dir),
                           "--synthetic", "4", "--png", str(png), "--save-synthetic",
                           str(saved), "--json"])
    assert result["sequences"] == 24 and result["standin"] is True
    confusion = np.array(result["confusion"])
    assert confusion.shape == (6, 6) and confusion.sum(axis=1).tolist() == [4] * 6
    assert result["total_accuracy"] == pytest.approx(np.trace(confusion) / 24)
    image = cv2.imread(str(png))
    assert image is not None and image.shape[0] > 300
    # The saved set is the card's format and evaluates to the same numbers.
    data, names, labels = read_card_format(saved / "data.npy", saved / "labels.pkl")
    assert data.shape == (24, 3, 300, 34, 1) and names[0] == "synthetic_sitting_down_0000"
    again = _run(capsys, ["eval", "poseclass", "--models-dir", str(standin_dir), "--data",
                          str(saved / "data.npy"), "--labels", str(saved / "labels.pkl"),
                          "--json"])
    assert again["confusion"] == result["confusion"]


def test_a_trained_classifier_swaps_in_without_code_change(
    standin_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _, labels = synthetic_dataset(25, seed=11, method="tao_training")
    bounds = linear_probe.window_bounds("tao_training", 100)
    trained_dir = tmp_path / "trained"
    linear_probe.install(
        linear_probe.export(*linear_probe.fit(data, labels, 6, bounds), bounds=bounds),
        trained_dir,
    )
    argv = ["--synthetic", "10", "--seed", "99", "--json"]
    before = _run(capsys, ["eval", "poseclass", "--models-dir", str(standin_dir)] + argv)
    after = _run(capsys, ["eval", "poseclass", "--models-dir", str(trained_dir)] + argv)
    assert after["standin"] is False
    assert before["total_accuracy"] < 0.5 < 0.9 < after["total_accuracy"]
    assert min(v for k, v in after.items() if k.startswith("accuracy_")) >= 0.7


def test_label_count_mismatch_and_bad_inputs_are_refused(
    standin_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    write_standin("poseclassificationnet", models)
    sidecar = models / "poseclassificationnet.manifest.json"
    meta = json.loads(sidecar.read_text())
    meta["labels"] = meta["labels"][:5]
    sidecar.write_text(json.dumps(meta))
    code = main(["eval", "poseclass", "--models-dir", str(models), "--synthetic", "1"])
    err = capsys.readouterr().err
    assert code == ExitCode.DATA and "outputs 6 classes" in err and "has 5" in err

    assert main(["eval", "poseclass", "--models-dir", str(standin_dir)]) == ExitCode.CONFIG
    assert "no evaluation data" in capsys.readouterr().err
    data = tmp_path / "d.npy"
    np.save(data, np.zeros((3, 3, 300, 34, 1), np.float32))
    labels = tmp_path / "l.pkl"
    write_card_format(tmp_path / "two", np.zeros((2, 3, 300, 34, 1), np.float32), ["a", "b"],
                      [0, 1])
    code = main(["eval", "poseclass", "--models-dir", str(standin_dir), "--data", str(data),
                 "--labels", str(tmp_path / "two" / "labels.pkl")])
    assert code == ExitCode.CONFIG and "lists 2 sequences" in capsys.readouterr().err
    code = main(["eval", "poseclass", "--models-dir", str(standin_dir), "--data", str(data),
                 "--labels", str(labels)])
    assert code == ExitCode.NO_INPUT and "l.pkl does not exist" in capsys.readouterr().err
    code = main(["eval", "poseclass", "--models-dir", str(standin_dir), "--synthetic", "1",
                 "--layout", "coco"])
    assert code == ExitCode.DATA and "17 joints" in capsys.readouterr().err


def test_other_eval_actions_still_dispatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval"]) == ExitCode.SOFTWARE
    assert "eval needs an action" in capsys.readouterr().err
    # `eval reid` reaches its own handler, which looks for its model first.
    code = main(["eval", "reid", str(tmp_path), "--models-dir", str(tmp_path)])
    assert code == ExitCode.NO_INPUT
    assert "reidentificationnet.onnx does not exist" in capsys.readouterr().err
