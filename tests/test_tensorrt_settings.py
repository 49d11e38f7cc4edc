"""Build settings decided from profile × manifest × TensorRT capabilities (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.device.profiles import DeviceProfile, load_profiles
from edge_agent.inference.tensorrt_settings import (
    TrtCapabilities,
    decide_build_settings,
    describe,
)
from edge_agent.models.manifest import load_manifest

SEMSEG = "peoplesemsegnet_vanilla_unet"
XAVIER_CAPS = TrtCapabilities("8.5.2.2", fast_fp16=True, fast_int8=True, dla_cores=2)
NANO_CAPS = TrtCapabilities("8.2.1.8", fast_fp16=True, fast_int8=False, dla_cores=0)


def profile(name: str) -> DeviceProfile:
    return load_profiles()[name]


def test_int8_needs_a_calibration_cache(tmp_path: Path) -> None:
    manifest = load_manifest(SEMSEG)
    no_cache = decide_build_settings(profile("agx_orin"), manifest, XAVIER_CAPS)
    assert no_cache.precision == "fp16" and "no calibration cache" in no_cache.notes[0]
    calib = tmp_path / "x.calib"
    calib.write_bytes(b"TRT-8502-EntropyCalibration2\n")
    with_cache = decide_build_settings(profile("agx_orin"), manifest, XAVIER_CAPS, calib)
    assert with_cache.precision == "int8" and with_cache.calibration_cache == calib
    assert len(with_cache.calibration_sha256) == 64 and not with_cache.notes


def test_int8_without_fast_int8_hardware(tmp_path: Path) -> None:
    calib = tmp_path / "x.calib"
    calib.write_bytes(b"cache")
    settings = decide_build_settings(profile("agx_orin"), load_manifest(SEMSEG), NANO_CAPS, calib)
    assert settings.precision == "fp16" and settings.calibration_sha256 == ""


def test_nano_fp16_gpu_batch_one() -> None:
    settings = decide_build_settings(profile("nano"), load_manifest("peoplesemsegnet_shuffleseg"),
                                     NANO_CAPS)
    assert (settings.precision, settings.dla_core, settings.batch_max) == ("fp16", -1, 1)
    assert settings.workspace_bytes == 256 << 20
    (inp,) = settings.inputs
    assert inp.name == "input_2:0"
    assert inp.min_shape == inp.opt_shape == inp.max_shape == (1, 3, 544, 960)


def test_dla_placement_and_gpu_fallback() -> None:
    settings = decide_build_settings(profile("agx_orin"), load_manifest("peoplenet"), XAVIER_CAPS)
    assert settings.dla_core == 0 and settings.gpu_fallback


@pytest.mark.parametrize(
    ("caps", "why"),
    [
        (TrtCapabilities("8.5.2", True, True, 0), "device reports 0"),
        (TrtCapabilities("10.8.0", True, True, 2), "no DLA support"),
        (TrtCapabilities("11.2.0", True, True, 2), "no DLA support"),
        (TrtCapabilities("8.5.2", False, False, 2), "only fp16/int8"),
    ],
)
def test_dla_dropped_with_reason(caps: TrtCapabilities, why: str) -> None:
    settings = decide_build_settings(profile("agx_orin"), load_manifest("peoplenet"), caps)
    assert settings.dla_core == -1
    assert any(why in note for note in settings.notes), settings.notes


def test_dla_kept_on_tensorrt_10_7_and_11_4() -> None:
    for version in ("10.7.0", "11.4.1"):
        caps = TrtCapabilities(version, True, True, 2)
        assert decide_build_settings(profile("agx_orin"), load_manifest("peoplenet"),
                                     caps).dla_core == 0


def test_batch_capped_by_manifest_and_profile_shapes() -> None:
    settings = decide_build_settings(profile("agx_orin"), load_manifest("reidentificationnet"),
                                     XAVIER_CAPS)
    manifest = load_manifest("reidentificationnet")
    wished = profile("agx_orin").model("reidentificationnet").batch_max
    assert settings.batch_max == min(wished, manifest.max_batch)
    summary = describe(settings)
    assert summary["batch_max"] == settings.batch_max
    assert summary["batch_min"] == summary["batch_opt"] == settings.batch_max  # DLA: static


def test_unlisted_model_gets_safe_defaults() -> None:
    settings = decide_build_settings(profile("nano"), load_manifest("bodypose3dnet"), NANO_CAPS)
    assert settings.precision == "fp16" and settings.dla_core == -1
