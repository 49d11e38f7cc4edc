"""Engine cache keys and headers: corrupt or foreign files are detected, never loaded."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edge_agent.inference.tensorrt_cache import EngineCache, EngineKey, check_file, encode

KEY = EngineKey(model_name="peoplenet", model_sha256="a" * 64, device="agx_orin/p3701-0005",
                tensorrt_version="8.5.2.2", precision="fp16", batch_max=2, dla_core=0)
PLAN = b"\x00PLAN" * 100


@pytest.mark.parametrize(
    "change",
    [
        {"model_sha256": "b" * 64}, {"device": "orin_nano/p3767-0005"},
        {"tensorrt_version": "10.3.0.30"}, {"precision": "int8"}, {"batch_max": 4},
        {"dla_core": 1}, {"calibration_sha256": "c" * 64},
    ],
)
def test_every_key_field_changes_the_file_name(change: dict) -> None:  # type: ignore[type-arg]
    assert dataclasses.replace(KEY, **change).filename() != KEY.filename()


def test_key_is_stable() -> None:
    assert KEY.filename() == dataclasses.replace(KEY).filename()
    assert KEY.filename().startswith("peoplenet-") and KEY.filename().endswith(".engine")


def test_store_then_load(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path)
    path = cache.store(KEY, PLAN, {"build_s": 1.0})
    assert cache.check(KEY).valid and cache.load(KEY) == PLAN
    assert [e.path for e in cache.entries()] == [path]
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda data: data[:-10], "plan is"),  # truncated
        (lambda data: data[:-1] + b"X", "sha256"),  # flipped byte
        (lambda data: b"\x00" * 10, "no edge-agent header"),  # raw TensorRT plan or garbage
        (lambda data: data[:20], "truncated"),
    ],
)
def test_corrupt_file_is_never_loaded(tmp_path: Path, mutate: object, words: str) -> None:
    cache = EngineCache(tmp_path)
    path = cache.store(KEY, PLAN)
    path.write_bytes(mutate(path.read_bytes()))  # type: ignore[operator]
    verdict = cache.check(KEY)
    assert verdict.status == "corrupt" and words in verdict.detail
    assert cache.load(KEY) is None


def test_foreign_engine_under_our_name_is_detected(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path)
    foreign = dataclasses.replace(KEY, tensorrt_version="10.3.0.30", device="x86_gpu")
    cache.path_for(KEY).write_bytes(encode(foreign, PLAN))  # copied in from another box
    verdict = cache.check(KEY)
    assert verdict.status == "foreign"
    assert "tensorrt_version" in verdict.detail and "device" in verdict.detail
    assert cache.load(KEY) is None


def test_missing(tmp_path: Path) -> None:
    assert check_file(tmp_path / "nope.engine", KEY).status == "missing"
    assert EngineCache(tmp_path / "absent").entries() == []
