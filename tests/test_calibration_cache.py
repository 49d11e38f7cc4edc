"""TensorRT calibration cache text: writer/parser round trip, and validation before a build."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Dict

import pytest

from edge_agent.calibration import store
from edge_agent.calibration.cache_format import (
    CacheFormatError,
    format_cache,
    hex_to_scale,
    major_from_version_number,
    parse_cache,
    scale_to_hex,
    version_number,
)
from edge_agent.calibration.store import (
    CalibrationCacheError,
    install_shipped_cache,
    select_calibration,
    validate_cache,
)

SCALES: Dict[str, float] = {
    "input_1:0": 1.0 / 127.0,  # colon inside the name, as in NGC's ONNX releases
    "block/conv_1": 0.0421,
    "output_cov/Sigmoid:0": 0.00787401,
}


def test_hex_is_the_big_endian_float32_bit_pattern() -> None:
    # amax 1.0 -> scale 1/127 -> 0x3c010204 (the example TAO's exporter documents)
    assert scale_to_hex(1.0 / 127.0) == "3c010204"
    assert scale_to_hex(1.0) == "3f800000"
    assert struct.unpack(">f", bytes.fromhex(scale_to_hex(0.3)))[0] == pytest.approx(0.3)
    # Python's hex() drops leading zeros; such a field is still decoded correctly.
    assert hex_to_scale("1000000") == struct.unpack(">f", bytes.fromhex("01000000"))[0]


def test_writer_round_trips_through_the_parser() -> None:
    text = format_cache(8601, SCALES)
    assert text.splitlines()[0] == "TRT-8601-EntropyCalibration2"
    assert text.splitlines()[1] == "input_1:0: 3c010204"
    parsed = parse_cache(text)
    assert parsed.version_number == 8601 and parsed.tensorrt_major == 8
    assert parsed.algorithm == "EntropyCalibration2"
    assert list(parsed.scales) == list(SCALES)
    for name, scale in SCALES.items():
        assert parsed.scales[name] == pytest.approx(scale, rel=1e-7)  # float32 precision
    assert parsed.dynamic_ranges()["input_1:0"] == pytest.approx(1.0, rel=1e-6)


def test_version_numbers_follow_tensorrt_encodings() -> None:
    assert version_number("8.6.1") == 8601
    assert version_number("8.5.2.2") == 8502
    assert version_number("10.3.0") == 100300
    assert major_from_version_number(7103) == 7
    assert major_from_version_number(8601) == 8
    assert major_from_version_number(100300) == 10
    with pytest.raises(ValueError, match="not 'major.minor.patch'"):
        version_number("ten")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("TRT-8XXX-EntropyCalibration2\na: 3c010204\n", "line 1"),
        ("TRT-8601-MagicCalibration\na: 3c010204\n", "unknown algorithm"),
        ("TRT-8601-EntropyCalibration2\n", "no tensor lines"),
        ("TRT-8601-EntropyCalibration2\na 3c010204\n", "line 2"),
        ("TRT-8601-EntropyCalibration2\na: zz010204\n", "line 2"),
        ("TRT-8601-EntropyCalibration2\na: 3c010204\na: 3c010204\n", "appears twice"),
        ("TRT-8601-EntropyCalibration2\na: bf800000\n", "not positive"),
    ],
)
def test_parser_names_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(CacheFormatError, match=problem):
        parse_cache(text)


def _install_local(root: Path, text: str, version: str = "v1", model_sha: str = "m1") -> Path:
    folder = store.version_dir(root, "toy", version) / "local"
    folder.mkdir(parents=True)
    (folder / store.CACHE_NAME).write_bytes(text.encode("utf-8"))
    meta = store.metadata("toy", version, text, "local", model_sha256=model_sha,
                          gate={"passed": True})
    (folder / store.META_NAME).write_text(json.dumps(meta), encoding="utf-8")
    return folder / store.CACHE_NAME


NAMES = set(SCALES) | {"other"}


def test_a_matching_cache_validates(tmp_path: Path) -> None:
    path = _install_local(tmp_path, format_cache(8601, SCALES))
    parsed = validate_cache(path, "toy", "v1", NAMES, "8.6.2", model_sha256="m1")
    assert set(parsed.scales) == set(SCALES)


def test_a_cache_for_another_tensorrt_major_is_refused_with_both_versions(
        tmp_path: Path) -> None:
    path = _install_local(tmp_path, format_cache(8601, SCALES))
    with pytest.raises(CalibrationCacheError,
                       match=r"TensorRT 8 \(header number 8601\).*TensorRT 10.3.0"):
        validate_cache(path, "toy", "v1", NAMES, "10.3.0")


def test_wrong_tensor_names_are_listed(tmp_path: Path) -> None:
    scales = dict(SCALES, **{"renamed/conv": 0.1, "(Unnamed Layer* 3) [Constant]_output": 0.1})
    path = _install_local(tmp_path, format_cache(8601, scales))
    with pytest.raises(CalibrationCacheError, match=r"1 of its 5 tensor names .*'renamed/conv'"):
        validate_cache(path, "toy", "v1", NAMES, "8.6.2")


def test_another_model_version_or_file_is_refused(tmp_path: Path) -> None:
    path = _install_local(tmp_path, format_cache(8601, SCALES), version="v1")
    with pytest.raises(CalibrationCacheError, match="model version 'v1', not 'v2'"):
        validate_cache(path, "toy", "v2", NAMES, "8.6.2")
    with pytest.raises(CalibrationCacheError, match="another file of the same version"):
        validate_cache(path, "toy", "v1", NAMES, "8.6.2", model_sha256="m2")


def test_corrupted_caches_are_detected(tmp_path: Path) -> None:
    path = _install_local(tmp_path, format_cache(8601, SCALES))
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])  # truncated mid-line
    with pytest.raises(CalibrationCacheError, match="modified or corrupt"):
        validate_cache(path, "toy", "v1", NAMES, "8.6.2")
    path.write_bytes(b"\x00\xff" * 20)
    with pytest.raises(CalibrationCacheError, match="not a TensorRT calibration cache"):
        validate_cache(path, "toy", "v1", NAMES, "8.6.2")
    path.write_bytes(good)
    (path.parent / store.META_NAME).unlink()
    with pytest.raises(CalibrationCacheError, match="unverified"):
        validate_cache(path, "toy", "v1", NAMES, "8.6.2")


def test_local_calibration_replaces_nvidias_cache(tmp_path: Path) -> None:
    assert select_calibration("toy", "v1", tmp_path) is None
    shipped = format_cache(8502, SCALES).encode("utf-8")
    ngc = install_shipped_cache(tmp_path, "toy", "v1", shipped, origin="ngc download")
    choice = select_calibration("toy", "v1", tmp_path)
    assert choice == ngc and choice is not None and choice.source == "ngc"
    validate_cache(choice.path, "toy", "v1", NAMES, "8.5.2")
    local_path = _install_local(tmp_path, format_cache(8502, {"input_1:0": 0.02}))
    choice = select_calibration("toy", "v1", tmp_path)
    assert choice is not None and choice.source == "local" and choice.path == local_path
    assert choice.sha256 == store.sha256_bytes(local_path.read_bytes())
    assert choice.sha256 != ngc.sha256  # a different cache means a different engine key
    # A local calibration whose gate did not pass is never chosen.
    meta = json.loads((local_path.parent / store.META_NAME).read_text(encoding="utf-8"))
    meta["gate"] = {"passed": False}
    (local_path.parent / store.META_NAME).write_text(json.dumps(meta), encoding="utf-8")
    choice = select_calibration("toy", "v1", tmp_path)
    assert choice is not None and choice.source == "ngc"


def test_a_shipped_file_that_is_not_a_cache_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CalibrationCacheError, match="not a TensorRT cache"):
        install_shipped_cache(tmp_path, "toy", "v1", b"<html>login required</html>")
    assert select_calibration("toy", "v1", tmp_path) is None


def test_folder_names_cannot_escape_the_root(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="cannot name a calibration folder"):
        select_calibration("toy", "../../etc", tmp_path)
