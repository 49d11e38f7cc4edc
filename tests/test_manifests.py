"""The model manifests in engines/models are data reviewed like code: check them against the facts.

CONTRACTS below restates docs/model-contracts.md (shared team notes, sourced from NVIDIA's
deepstream_tao_apps, tao_pytorch_backend and tao-toolkit-triton-apps); a manifest edit that
drifts from those facts fails here.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Dict, List, Tuple, Union

import pytest

from edge_agent.errors import ConfigError, ModelContractError
from edge_agent.models.manifest import (
    known_model_names,
    load_manifest,
    manifest_dirs,
    parse_manifest_file,
)
from edge_agent.models.standin import STANDIN_NAMES

REPO_MANIFESTS = Path(__file__).resolve().parents[1] / "engines" / "models"

Shape = Tuple[Union[int, str], ...]
Tensors = Dict[str, Tuple[str, Shape]]  # name -> (canonical dtype, shape)

SEMSEG_OUT: Tensors = {"argmax_1": ("int64", ("N", 544, 960, 1))}
CONTRACTS: Dict[str, Tuple[Tensors, Tensors]] = {
    "peoplesemsegnet_vanilla_unet": (
        {"input_1:0": ("float32", ("N", 3, 544, 960))},
        SEMSEG_OUT,
    ),
    "peoplesemsegnet_shuffleseg": ({"input_2:0": ("float32", ("N", 3, 544, 960))}, SEMSEG_OUT),
    "peoplenet": (
        {"input_1:0": ("float32", ("N", 3, 544, 960))},
        {
            "output_cov/Sigmoid:0": ("float32", ("N", 3, 34, 60)),
            "output_bbox/BiasAdd:0": ("float32", ("N", 12, 34, 60)),
        },
    ),
    "reidentificationnet": (
        {"input": ("float32", ("N", 3, 256, 128))},
        {"fc_pred": ("float32", ("N", 256))},
    ),
    "bodypose3dnet": (
        {
            "input0": ("float32", ("N", 3, 256, 192)),
            "k_inv": ("float32", ("N", 3, 3)),
            "t_form_inv": ("float32", ("N", 3, 3)),
            "scale_normalized_mean_limb_lengths": ("float32", ("N", 36)),
            "mean_limb_lengths": ("float32", ("N", 36)),
        },
        {
            "pose2d": ("float32", ("N", 34, 3)),
            "pose2d_org_img": ("float32", ("N", 34, 3)),
            "pose25d": ("float32", ("N", 34, 4)),
            "pose3d": ("float32", ("N", 34, 3)),
        },
    ),
    "poseclassificationnet": (
        {"input": ("float32", ("N", 3, 300, 34, 1))},
        {"fc_pred": ("float32", ("N", 6))},
    ),
    "segic_prompt_feature_extract": (
        {
            "images": ("float32", ("P", 3, 896, 896)),
            "labels": ("float32", ("P", 1, 896, 896)),
            "tokens": ("int32", ("P", 64)),
            "ori_sizes": ("int32", ("P", 2)),
        },
        {"input_prompts": ("float32", ("P", 256)), "inst_feats": ("float32", ("P", 1024))},
    ),
    "segic": (
        {
            "images": ("float32", (1, 3, 896, 896)),
            "ori_sizes": ("int32", (1, 2)),
            "input_prompts": ("float32", ("P", 256)),
            "inst_feats": ("float32", ("P", 1024)),
        },
        {"masks_pred": ("float32", ("P", 1, 896, 896))},  # shape UNCONFIRMED, our choice
    ),
    # User-supplied FC-HarDNet-class part model: names and size are our choice (see the toml).
    "human_parts": (
        {"input": ("float32", ("N", 3, 288, 144))},
        {"output": ("float32", ("N", 59, 288, 144))},
    ),
}

# (colour, scale, offsets, resize, width, height) per model that takes an image.
PREPROCESS = {
    "peoplesemsegnet_vanilla_unet": ("BGR", 0.007843, [127.5] * 3, "stretch", 960, 544),
    "peoplesemsegnet_shuffleseg": ("BGR", 0.007843, [127.5] * 3, "stretch", 960, 544),
    "peoplenet": ("RGB", 0.0039215697906911373, [0.0] * 3, "stretch", 960, 544),
    "reidentificationnet": (
        "RGB", 0.01735207357279195, [123.675, 116.28, 103.53], "stretch", 128, 256,
    ),
    "bodypose3dnet": ("BGR", 0.00392156, [0.0] * 3, "stretch", 192, 256),
    "segic_prompt_feature_extract": ("RGB", 1.0, [0.0] * 3, "letterbox_pad", 896, 896),
    "segic": ("RGB", 1.0, [0.0] * 3, "letterbox_pad", 896, 896),
    "human_parts": (
        "RGB", 0.01735207357279195, [123.675, 116.28, 103.53], "stretch", 144, 288,
    ),
}

LABELS = {
    "peoplesemsegnet_vanilla_unet": ["background", "person"],
    "peoplesemsegnet_shuffleseg": ["background", "person"],
    "peoplenet": ["Person", "Bag", "Face"],
    "poseclassificationnet": [
        "sitting_down", "getting_up", "sitting", "standing", "walking", "jumping",
    ],
}


def _files() -> List[Path]:
    return sorted(REPO_MANIFESTS.glob("*.toml"))


def test_every_expected_model_has_exactly_one_manifest() -> None:
    assert sorted(p.stem for p in _files()) == sorted(CONTRACTS)
    assert sorted(STANDIN_NAMES) == sorted(CONTRACTS)


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.stem)
def test_manifest_parses_and_name_matches_file(path: Path) -> None:
    manifest = parse_manifest_file(path)
    assert manifest.name == path.stem
    assert re.fullmatch(r"([0-9a-f]{64})?", manifest.sha256)
    if manifest.url:
        assert manifest.url.startswith("https://api.ngc.nvidia.com/v2/models/")
        assert manifest.ngc_version in manifest.url
        assert manifest.file in manifest.url or manifest.url.endswith("/zip")
    assert manifest.max_batch >= 1


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_tensors_match_the_contract_facts(name: str) -> None:
    manifest = load_manifest(name, REPO_MANIFESTS)
    want_in, want_out = CONTRACTS[name]
    got_in = {s.name: (s.dtypes[0], s.shape) for s in manifest.input_specs()}
    got_out = {s.name: (s.dtypes[0], s.shape) for s in manifest.output_specs()}
    assert got_in == want_in
    assert got_out == want_out


def test_argmax_accepts_int32_from_tensorrt_engines() -> None:
    for name in ("peoplesemsegnet_vanilla_unet", "peoplesemsegnet_shuffleseg"):
        (spec,) = load_manifest(name).output_specs()
        assert spec.dtypes == ("int64", "int32")
        assert spec.layout == "NHWC"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_preprocess_and_labels_match_the_contract_facts(name: str) -> None:
    manifest = load_manifest(name)
    if name in PREPROCESS:
        pre = manifest.preprocess
        assert pre is not None
        assert (pre.color, pre.scale, pre.offsets, pre.resize, pre.width, pre.height) == (
            PREPROCESS[name]
        )
    else:
        assert manifest.preprocess is None
    if name in LABELS:
        assert manifest.labels == LABELS[name]
    if name == "bodypose3dnet":
        assert len(manifest.labels) == 34 and manifest.labels[0] == "pelvis"


def test_unknown_model_lists_known_names() -> None:
    with pytest.raises(ConfigError) as err:
        load_manifest("peoplenet_v99")
    assert "peoplenet_v99" in err.value.problem
    for name in CONTRACTS:
        assert name in err.value.fix
    assert set(CONTRACTS) <= set(known_model_names())


def test_search_order_is_explicit_then_installed_then_checkout(tmp_path: Path) -> None:
    dirs = manifest_dirs(tmp_path)
    assert dirs[0] == tmp_path
    assert dirs[1] == Path(sys.prefix) / "share" / "edge-agent" / "engines" / "models"
    assert dirs[2] == REPO_MANIFESTS


def test_explicit_dir_overrides_the_checkout(tmp_path: Path) -> None:
    text = (REPO_MANIFESTS / "peoplenet.toml").read_text(encoding="utf-8")
    (tmp_path / "peoplenet.toml").write_text(text.replace("max_batch = 2", "max_batch = 7"))
    assert load_manifest("peoplenet", tmp_path).max_batch == 7
    assert load_manifest("peoplenet").max_batch == 2


def test_unknown_key_is_rejected_naming_file_and_key(tmp_path: Path) -> None:
    text = (REPO_MANIFESTS / "peoplenet.toml").read_text(encoding="utf-8")
    (tmp_path / "peoplenet.toml").write_text(text.replace("max_batch = 2", "max_btach = 2"))
    with pytest.raises(ModelContractError) as err:
        load_manifest("peoplenet", tmp_path)
    assert str(tmp_path / "peoplenet.toml") in err.value.problem
    assert "max_btach" in err.value.problem


def test_invalid_toml_and_bad_dtype_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("name = \n")
    with pytest.raises(ModelContractError, match="not valid TOML"):
        load_manifest("broken", tmp_path)
    text = (REPO_MANIFESTS / "reidentificationnet.toml").read_text(encoding="utf-8")
    (tmp_path / "reidentificationnet.toml").write_text(text.replace('"float32"', '"fp32"', 1))
    with pytest.raises(ModelContractError, match="fp32"):
        load_manifest("reidentificationnet", tmp_path)


def test_name_must_match_file_name(tmp_path: Path) -> None:
    text = (REPO_MANIFESTS / "peoplenet.toml").read_text(encoding="utf-8")
    (tmp_path / "other.toml").write_text(text)
    with pytest.raises(ModelContractError, match="does not match the file name"):
        load_manifest("other", tmp_path)
