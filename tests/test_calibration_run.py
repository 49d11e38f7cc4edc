"""`edge-agent calibrate` end to end on stand-in models and frames of the sample clip.

Real ONNX Runtime throughout: ranges are measured, the QDQ model is run against FP32, and the
TensorRT cache is checked against the model's tensor names. The clip is the project's
synthetic sample clip (edge_agent.capture.sample_footage), generated here; no network.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Dict, List

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from edge_agent.calibration import store
from edge_agent.calibration.cache_format import parse_cache
from edge_agent.calibration.quantize import (
    UnsupportedModelError,
    check_model_ops,
    insert_qdq,
    ranges_from_amax,
)
from edge_agent.calibration.store import model_tensor_names, select_calibration, validate_cache
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.cli.main import main
from edge_agent.errors import ExitCode
from edge_agent.models import reid
from edge_agent.models.manifest import load_manifest
from edge_agent.models.standin import write_standin
from edge_agent.models.store import sha256_file

# The stand-in PeopleNet encodes box edges as (1e5 - coordinate) before a max-pool, and its
# box offsets are huge in empty cells: one INT8 step there is hundreds of pixels. Its coverage
# branch quantizes cleanly, so the box branch's Concat nodes stay in float.
PEOPLENET_COVERAGE = ["--op-types", "Add,Sigmoid,Concat", "--exclude-nodes",
                      "peoplenet/concat_43_node,output_bbox/BiasAdd:0_node"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    base = tmp_path_factory.mktemp("calibration")
    for name in ("peoplenet", "reidentificationnet", "peoplesemsegnet_shuffleseg",
                 "poseclassificationnet"):
        write_standin(name, base / "models")
    # The synthetic clip, always: vtest.avi where installed would make the figures depend on
    # the machine (on it the stand-ins' hard brightness thresholds sit near many real pixels,
    # and the gate refuses them; see docs/calibration.md).
    clip = write_synthetic_clip(base / "walkers.avi", 768, 576, 10.0, 8.0)
    return {"models": base / "models", "clip": clip, "base": base}


def _calibrate(ws: Dict[str, Path], root: Path, model: str, *extra: str) -> int:
    return main(["calibrate", model, "--video", str(ws["clip"]), "--models-dir",
                 str(ws["models"]), "--root", str(root), "--tensorrt-version", "8.6.2",
                 *extra])


def _version(model: str) -> str:
    return load_manifest(model).ngc_version


def test_reid_calibration_passes_the_gate_and_installs_a_valid_cache(
        workspace: Dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _calibrate(workspace, tmp_path, "reidentificationnet", "--samples", "8",
                      "--held-out", "8")
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "calibration installed" in out and "rank1_agreement" in out
    assert "calibrate: activation ranges 8/8 (100%)" in err  # progress is shown
    choice = select_calibration("reidentificationnet", _version("reidentificationnet"),
                                tmp_path)
    assert choice is not None and choice.source == "local"
    folder = choice.path.parent
    assert {"report.md", "embedding_cosine.png", "model.qdq.onnx", "calibration.json"} <= {
        p.name for p in folder.iterdir()}
    model_path = workspace["models"] / "reidentificationnet.onnx"
    parsed = validate_cache(choice.path, "reidentificationnet",
                            _version("reidentificationnet"), model_tensor_names(model_path),
                            "8.6.2", model_sha256=sha256_file(model_path))
    assert parsed.version_number == 8602 and "fc_pred" in parsed.scales
    meta = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    assert meta["gate"]["passed"] and meta["standin"] is True

    # Independently of the gate's own code: INT8 embeddings of fresh crops stay close.
    qdq = onnx.load(str(folder / "model.qdq.onnx"))
    assert any(n.op_type == "QuantizeLinear" for n in qdq.graph.node)
    rng = np.random.RandomState(7)
    crops = [rng.randint(0, 255, (120, 50, 3)).astype(np.uint8) for _ in range(6)]
    batch = reid.preprocess_crops(crops)
    fp32 = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    int8 = ort.InferenceSession(str(folder / "model.qdq.onnx"),
                                providers=["CPUExecutionProvider"])
    a = reid.l2_normalise(fp32.run(None, {"input": batch})[0])
    b = reid.l2_normalise(int8.run(None, {"input": batch})[0])
    assert float(np.min(np.sum(a * b, axis=1))) > 0.98


def test_peoplenet_boxes_agree_and_a_ruinous_calibration_is_refused(
        workspace: Dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _calibrate(workspace, tmp_path, "peoplenet", "--samples", "8", "--held-out", "6",
                      *PEOPLENET_COVERAGE) == ExitCode.OK
    out, _ = capsys.readouterr()
    assert "box_precision      1.0000" in out and "box_recall         1.0000" in out
    installed = select_calibration("peoplenet", _version("peoplenet"), tmp_path)
    assert installed is not None
    before = installed.path.read_bytes()

    # Quantizing the box branch too ruins the boxes: refused, with the figures, nothing
    # installed, and the previous good calibration stays selected.
    code = _calibrate(workspace, tmp_path, "peoplenet", "--samples", "8", "--held-out", "6",
                      "--method", "minmax")
    out, err = capsys.readouterr()
    assert code == ExitCode.FAILURE
    assert "calibration REFUSED" in out
    assert "box_precision" in err and "< 0.9500" in err and "nothing was installed" in err
    refused = store.version_dir(tmp_path, "peoplenet", _version("peoplenet")) / "refused"
    report = (refused / "report.md").read_text(encoding="utf-8")
    assert "REFUSED" in report and "| box_recall |" in report
    assert (refused / "box_precision.png").is_file()
    again = select_calibration("peoplenet", _version("peoplenet"), tmp_path)
    assert again is not None and again.path.read_bytes() == before


def test_segmentation_masks_agree(workspace: Dict[str, Path], tmp_path: Path) -> None:
    code = _calibrate(workspace, tmp_path, "peoplesemsegnet_shuffleseg", "--samples", "3",
                      "--held-out", "2", "--method", "minmax")
    assert code == ExitCode.OK
    folder = store.version_dir(tmp_path, "peoplesemsegnet_shuffleseg",
                               _version("peoplesemsegnet_shuffleseg")) / "local"
    meta = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    assert meta["gate"]["figures"]["mask_iou"]["value"] >= 0.95
    assert meta["tensors"] > 10  # the convolution stack is in INT8


def test_pose_classification_from_recorded_tensors(
        workspace: Dict[str, Path], tmp_path: Path) -> None:
    rng = np.random.RandomState(3)
    tensors = tmp_path / "skeletons.npy"
    np.save(str(tensors), rng.standard_normal((30, 3, 300, 34, 1)).astype(np.float32))
    code = main(["calibrate", "poseclassificationnet", "--tensors", str(tensors),
                 "--models-dir", str(workspace["models"]), "--root", str(tmp_path / "cal"),
                 "--tensorrt-version", "10.3.0", "--samples", "20", "--held-out", "10"])
    assert code == ExitCode.OK
    choice = select_calibration("poseclassificationnet", _version("poseclassificationnet"),
                                tmp_path / "cal")
    assert choice is not None
    assert parse_cache(choice.path.read_text(encoding="utf-8")).tensorrt_major == 10
    # The pose model's input is not an image.
    assert _calibrate(workspace, tmp_path, "poseclassificationnet") == ExitCode.CONFIG


def test_a_cache_rebuilds_the_same_qdq_model(workspace: Dict[str, Path], tmp_path: Path) -> None:
    """The --tensorrt path judges TensorRT's cache by re-inserting Q/DQ from its ranges."""
    assert _calibrate(workspace, tmp_path, "reidentificationnet", "--samples", "6",
                      "--held-out", "4") == ExitCode.OK
    choice = select_calibration("reidentificationnet", _version("reidentificationnet"),
                                tmp_path)
    assert choice is not None
    parsed = parse_cache(choice.path.read_text(encoding="utf-8"))
    _, scales = insert_qdq(workspace["models"] / "reidentificationnet.onnx",
                           ranges_from_amax(parsed.dynamic_ranges()), ["MatMul", "Flatten"])
    assert scales.keys() == parsed.scales.keys()
    for name, scale in scales.items():
        assert scale == pytest.approx(parsed.scales[name], rel=1e-6)


def test_too_few_images_are_refused_with_found_and_needed(
        workspace: Dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.jpg").write_bytes(b"\xff\xd8 truncated")
    code = main(["calibrate", "peoplenet", "--images", str(images), "--models-dir",
                 str(workspace["models"]), "--root", str(tmp_path / "cal"),
                 "--tensorrt-version", "8.6.2", "--samples", "8", "--held-out", "4"])
    err = capsys.readouterr().err
    assert code == ExitCode.NO_INPUT
    assert "found 0 readable image(s) of 1 image file(s) (1 unreadable)" in err
    assert "calibration needs 12" in err and "Traceback" not in err


def _model_with(node: onnx.NodeProto, domain: str = "") -> onnx.ModelProto:
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets)


def test_ops_the_quantizer_cannot_handle_are_named_with_their_node() -> None:
    plugin = helper.make_node("BatchedNMSDynamic_TRT", ["x"], ["y"], name="nms_head",
                              domain="trt.plugins")
    with pytest.raises(UnsupportedModelError,
                       match=r"op 'BatchedNMSDynamic_TRT' at node 'nms_head' from domain"):
        check_model_ops(_model_with(plugin, "trt.plugins"), ["Conv"])
    sub = helper.make_node("Sub", ["x", "x"], ["y"], name="offsets/sub")
    with pytest.raises(UnsupportedModelError, match=r"op 'Sub' at node 'offsets/sub'"):
        check_model_ops(_model_with(sub), ["Conv", "Sub"])


def test_an_already_quantized_model_is_refused_by_the_command(
        workspace: Dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _calibrate(workspace, tmp_path / "first", "reidentificationnet", "--samples", "6",
                      "--held-out", "4") == ExitCode.OK
    models = tmp_path / "models"
    shutil.copytree(workspace["models"], models)
    qdq = next((tmp_path / "first").glob("reidentificationnet/*/local/model.qdq.onnx"))
    shutil.copy(qdq, models / "reidentificationnet.onnx")
    sidecar = models / "reidentificationnet.manifest.json"
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    data["sha256"] = sha256_file(models / "reidentificationnet.onnx")
    sidecar.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    code = main(["calibrate", "reidentificationnet", "--video", str(workspace["clip"]),
                 "--models-dir", str(models), "--detector",
                 str(workspace["models"] / "peoplenet.onnx"), "--root", str(tmp_path / "cal"),
                 "--tensorrt-version", "8.6.2", "--samples", "6", "--held-out", "4"])
    err = capsys.readouterr().err
    assert code == ExitCode.DATA
    assert "op 'QuantizeLinear' at node" in err and "already quantized" in err


def test_missing_tensorrt_version_and_bad_thresholds_are_usage_errors(
        workspace: Dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args: List[str] = ["calibrate", "peoplenet", "--video", str(workspace["clip"]),
                       "--models-dir", str(workspace["models"]), "--root", str(tmp_path)]
    assert main(args) == ExitCode.CONFIG
    assert "--tensorrt-version" in capsys.readouterr().err
    assert main(args + ["--tensorrt-version", "8.6.2", "--min", "mask_iuo=0.9"]) == \
        ExitCode.CONFIG
    assert "known figure" in capsys.readouterr().err
    assert main(args + ["--tensorrt-version", "8.6.2", "--min", "mask_iou=2"]) == \
        ExitCode.CONFIG
    assert "gate.mask_iou" in capsys.readouterr().err


def test_the_build_gets_a_validated_cache_whose_hash_keys_the_engine(
        workspace: Dict[str, Path], tmp_path: Path) -> None:
    from edge_agent.calibration.store import CalibrationCacheError, cache_for_build
    from edge_agent.device.profiles import load_profiles
    from edge_agent.inference.tensorrt_settings import TrtCapabilities, decide_build_settings

    name = "peoplesemsegnet_shuffleseg"  # the x86_gpu profile asks INT8 for it
    model_path = workspace["models"] / f"{name}.onnx"
    sha = sha256_file(model_path)
    assert cache_for_build(name, _version(name), model_path, sha, "8.6.2", tmp_path) is None
    assert _calibrate(workspace, tmp_path, name, "--samples", "3", "--held-out", "2",
                      "--method", "minmax") == 0
    choice = cache_for_build(name, _version(name), model_path, sha, "8.6.2", tmp_path)
    assert choice is not None
    caps = TrtCapabilities(version="8.6.2", fast_fp16=True, fast_int8=True, dla_cores=0)
    settings = decide_build_settings(load_profiles()["x86_gpu"], load_manifest(name), caps,
                                     choice.path)
    assert settings.precision == "int8" and settings.calibration_sha256 == choice.sha256
    with pytest.raises(CalibrationCacheError, match="TensorRT 8"):
        cache_for_build(name, _version(name), model_path, sha, "10.3.0", tmp_path)


def test_a_node_onnx_runtime_cannot_run_is_named(tmp_path: Path) -> None:
    from edge_agent.calibration.quantize import quantize

    shape = helper.make_tensor("bad_shape", TensorProto.INT64, [1], [3])
    node = helper.make_node("Reshape", ["x", "bad_shape"], ["y"], name="head/reshape")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])], initializer=[shape])
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    samples = [{"x": np.ones((1, 4), np.float32)}]
    with pytest.raises(UnsupportedModelError, match=r"op 'Reshape' at node 'head/reshape'"):
        quantize(path, samples, "minmax", ["Reshape"], lambda s, d, t: None)
