"""Every stand-in model, run for real in ONNX Runtime: contract, determinism and behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, Tuple

import numpy as np
import pytest

from edge_agent.errors import ConfigError
from edge_agent.inference.contract import check_contract
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.manifest import ModelManifest, load_manifest
from edge_agent.models.standin import STANDIN_NAMES, write_standin
from edge_agent.models.tensor_spec import TensorSpec

CPU = ["CPUExecutionProvider"]


@pytest.fixture(scope="module")
def standin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("standins")
    for name in STANDIN_NAMES:
        write_standin(name, out)
    return out


@pytest.fixture(scope="module")
def backend_of(standin_dir: Path) -> Iterator[Dict[str, OnnxRuntimeBackend]]:
    backends = {
        name: OnnxRuntimeBackend(standin_dir / f"{name}.onnx", CPU) for name in STANDIN_NAMES
    }
    yield backends
    for backend in backends.values():
        backend.close()


def concrete(spec: TensorSpec, batch: int) -> Tuple[int, ...]:
    """The spec's shape with every symbolic dim set to `batch`."""
    return tuple(d if isinstance(d, int) else batch for d in spec.shape)


def random_feeds(manifest: ModelManifest, batch: int) -> Dict[str, np.ndarray]:
    rng = np.random.RandomState(7)
    feeds = {}
    for spec in manifest.input_specs():
        shape = concrete(spec, batch)
        if spec.dtypes[0] == "int32":
            feeds[spec.name] = rng.randint(0, 896, size=shape).astype(np.int32)
        else:
            feeds[spec.name] = rng.uniform(0.0, 1.0, size=shape).astype(np.float32)
    return feeds


def normalise(manifest: ModelManifest, frame_hwc: np.ndarray) -> np.ndarray:
    """[H,W,3] 0..255 frame (already in the model's colour order) -> [1,3,H,W] model input."""
    pre = manifest.preprocess
    assert pre is not None
    y = pre.scale * (frame_hwc.astype(np.float32) - np.asarray(pre.offsets, np.float32))
    return y.transpose(2, 0, 1)[None].astype(np.float32)


@pytest.mark.parametrize("name", STANDIN_NAMES)
def test_two_writes_give_identical_bytes(name: str, tmp_path: Path) -> None:
    first = write_standin(name, tmp_path / "a")
    second = write_standin(name, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    sidecar = first.with_name(f"{name}.manifest.json")
    assert sidecar.read_bytes() == second.with_name(sidecar.name).read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == sorted([first.name, sidecar.name])


@pytest.mark.parametrize("name", STANDIN_NAMES)
def test_loads_and_matches_its_manifest(
    name: str, backend_of: Dict[str, OnnxRuntimeBackend]
) -> None:
    backend = backend_of[name]
    check_contract(backend.inputs, backend.outputs, load_manifest(name))


@pytest.mark.parametrize("name", STANDIN_NAMES)
@pytest.mark.parametrize("batch", [1, 3])
def test_runs_with_contract_shapes(
    name: str, batch: int, backend_of: Dict[str, OnnxRuntimeBackend]
) -> None:
    manifest = load_manifest(name)
    result = backend_of[name].run(random_feeds(manifest, batch))
    assert sorted(result) == sorted(s.name for s in manifest.output_specs())
    for spec in manifest.output_specs():
        assert result[spec.name].shape == concrete(spec, batch), spec.name
        assert result[spec.name].dtype.name == spec.dtypes[0], spec.name
        assert np.isfinite(result[spec.name]).all(), spec.name


def test_unknown_standin_lists_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        write_standin("peoplesegnet", tmp_path)
    assert all(name in err.value.fix for name in STANDIN_NAMES)


@pytest.mark.parametrize("name", ["peoplesemsegnet_vanilla_unet", "peoplesemsegnet_shuffleseg"])
def test_semseg_dark_is_person_light_is_background(
    name: str, backend_of: Dict[str, OnnxRuntimeBackend]
) -> None:
    manifest = load_manifest(name)
    (inp,) = manifest.input_specs()
    frames = np.stack(
        [
            np.zeros((544, 960, 3), np.uint8),
            np.full((544, 960, 3), 255, np.uint8),
            np.full((544, 960, 3), 40, np.uint8),
            np.full((544, 960, 3), 100, np.uint8),
        ]
    )
    batch = np.concatenate([normalise(manifest, f) for f in frames])
    classes = backend_of[name].run({inp.name: batch})["argmax_1"][..., 0]
    assert (classes[0] == 1).all()
    assert (classes[1] == 0).all()
    assert (classes[2] == 1).all()
    assert (classes[3] == 0).all()

    split = np.full((544, 960, 3), 230, np.uint8)
    split[:, :480] = 20
    classes = backend_of[name].run({inp.name: normalise(manifest, split)})["argmax_1"][0, ..., 0]
    assert (classes[:, :478] == 1).all()
    assert (classes[:, 482:] == 0).all()


def _grid_decode(cov: np.ndarray, bbox: np.ndarray) -> np.ndarray:
    """Standard DetectNet_v2 grid decode of class 0 over cells with coverage > 0.5."""
    rows, cols = np.nonzero(cov[0] > 0.5)
    boxes = []
    for j, i in zip(rows, cols):
        cx, cy = i * 16 + 0.5, j * 16 + 0.5
        o = bbox[0:4, j, i]
        boxes.append((cx - 35 * o[0], cy - 35 * o[1], cx + 35 * o[2], cy + 35 * o[3]))
    return np.asarray(boxes).reshape(-1, 4)


def test_peoplenet_every_cell_of_a_blob_predicts_the_whole_blob(
    backend_of: Dict[str, OnnxRuntimeBackend],
) -> None:
    manifest = load_manifest("peoplenet")
    frame = np.full((544, 960, 3), 255, np.uint8)
    x1, y1, x2, y2 = 320, 160, 368, 256  # cell-aligned: 3 x 6 cells, person-shaped
    frame[y1:y2, x1:x2] = (40, 10, 30)  # dark in every channel
    frame[400:416, 800:816] = 0  # a lone dark cell, far away
    frame[0:160, 0:200] = (40, 160, 60)  # grass: its bright green channel keeps it out
    out = backend_of["peoplenet"].run({"input_1:0": normalise(manifest, frame)})
    cov, bbox = out["output_cov/Sigmoid:0"][0], out["output_bbox/BiasAdd:0"][0]

    assert (cov[1:] < 0.5).all(), "bag and face never fire"
    np.testing.assert_array_equal(bbox[0:4], bbox[4:8])
    boxes = _grid_decode(cov, bbox)
    assert len(boxes) == 3 * 6 + 1
    lone = boxes[:, 0] >= 700
    np.testing.assert_allclose(boxes[lone], [[800, 400, 816, 416]], atol=1e-3)
    np.testing.assert_allclose(boxes[~lone], np.tile([x1, y1, x2, y2], (18, 1)), atol=1e-3)


def test_peoplenet_blob_decodes_to_one_box_under_nms(
    backend_of: Dict[str, OnnxRuntimeBackend],
) -> None:
    from edge_agent.models import peoplenet

    frame = np.full((544, 960, 3), 255, np.uint8)
    frame[100:190, 200:240] = 25  # not cell-aligned: 40 x 90 px
    frame[300:380, 600:640] = 25
    raw = backend_of["peoplenet"].run({"input_1:0": peoplenet.preprocess([frame])})
    det = peoplenet.decode_frame(
        raw["output_cov/Sigmoid:0"][0], raw["output_bbox/BiasAdd:0"][0], (960, 544),
        peoplenet.ClusterParams(),
    )
    assert len(det) == 2
    order = np.argsort(det.boxes[:, 0])
    # the box is the dark cells' extent: the blob snapped to the 16 px grid, where a cell is
    # dark when more than a quarter of its pixels are dark
    np.testing.assert_allclose(
        det.boxes[order], [[192, 96, 240, 192], [592, 304, 640, 384]], atol=1e-3
    )


def test_reid_similar_crops_match_and_different_ones_do_not(
    backend_of: Dict[str, OnnxRuntimeBackend],
) -> None:
    manifest = load_manifest("reidentificationnet")
    rng = np.random.RandomState(3)
    red_over_blue = np.zeros((256, 128, 3), np.float32)
    red_over_blue[:128] = (200, 30, 30)
    red_over_blue[128:] = (30, 30, 160)
    noisy = np.clip(red_over_blue + rng.normal(0, 8, red_over_blue.shape), 0, 255)
    green_over_grey = np.zeros((256, 128, 3), np.float32)
    green_over_grey[:128] = (40, 180, 40)
    green_over_grey[128:] = (120, 120, 120)
    crops = (red_over_blue, noisy, green_over_grey)
    batch = np.concatenate([normalise(manifest, f) for f in crops])
    emb = backend_of["reidentificationnet"].run({"input": batch})["fc_pred"]
    assert not np.allclose(np.linalg.norm(emb, axis=1), 1.0), "BN-neck output is not normalised"
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    assert float(unit[0] @ unit[1]) > 0.99
    assert float(unit[0] @ unit[2]) < 0.8


def test_bodypose3d_template_depends_on_brightness(
    backend_of: Dict[str, OnnxRuntimeBackend],
) -> None:
    manifest = load_manifest("bodypose3dnet")
    feeds = random_feeds(manifest, 2)
    feeds["input0"][0] = 0.0
    feeds["input0"][1] = 1.0
    feeds["t_form_inv"][:] = np.eye(3, dtype=np.float32)
    out = backend_of["bodypose3dnet"].run(feeds)
    pose25d = out["pose25d"]
    np.testing.assert_allclose(pose25d[:, 0, :3], [[96, 126, 0], [96, 130, 0]], atol=1e-4)
    conf = pose25d[..., 3]
    assert ((conf > 0) & (conf < 1)).all()
    assert (pose25d[..., 0] >= 0).all() and (pose25d[..., 0] < 192).all()
    assert (pose25d[..., 1] >= 0).all() and (pose25d[..., 1] < 256).all()
    np.testing.assert_allclose(out["pose2d"], pose25d[..., [0, 1, 3]])
    np.testing.assert_allclose(out["pose2d_org_img"], out["pose2d"], atol=1e-4)


def test_poseclass_is_deterministic_logits(backend_of: Dict[str, OnnxRuntimeBackend]) -> None:
    manifest = load_manifest("poseclassificationnet")
    feeds = random_feeds(manifest, 2)
    first = backend_of["poseclassificationnet"].run(feeds)["fc_pred"]
    second = backend_of["poseclassificationnet"].run(feeds)["fc_pred"]
    np.testing.assert_array_equal(first, second)
    zeros = {"input": np.zeros((2, 3, 300, 34, 1), np.float32)}
    bias = backend_of["poseclassificationnet"].run(zeros)["fc_pred"]
    np.testing.assert_array_equal(bias[0], bias[1])
    assert not np.allclose(first[0], bias[0])


def test_segic_pair_segments_the_prompt_colour(backend_of: Dict[str, OnnxRuntimeBackend]) -> None:
    image = np.full((1, 3, 896, 896), 128.0, np.float32)
    image[0, :, 100:300, 200:400] = np.array([220.0, 20.0, 20.0])[:, None, None]
    labels = np.zeros((1, 1, 896, 896), np.float32)
    labels[0, 0, 120:280, 220:380] = 255.0
    sizes = np.array([[896, 896]], np.int32)
    prompt = backend_of["segic_prompt_feature_extract"].run(
        {"images": image, "labels": labels, "tokens": np.ones((1, 64), np.int32),
         "ori_sizes": sizes}
    )
    target = np.full((1, 3, 896, 896), 128.0, np.float32)
    target[0, :, 500:700, 50:150] = np.array([215.0, 25.0, 25.0])[:, None, None]
    masks = backend_of["segic"].run(
        {"images": target, "ori_sizes": np.array([[600, 896]], np.int32), **prompt}
    )["masks_pred"]
    fg = masks[0, 0] > 0
    want = np.zeros((896, 896), bool)
    want[500:600, 50:150] = True  # rows >= 600 are padding
    np.testing.assert_array_equal(fg, want)
