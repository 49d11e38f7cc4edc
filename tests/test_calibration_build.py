"""The engine build takes its INT8 cache from the calibration store: the validated cache's
sha256 joins the engine key; a cache that does not fit this model is not used (FP16, said)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from edge_agent.calibration import store
from edge_agent.calibration.cache_format import format_cache
from edge_agent.device.identity import read_identity
from edge_agent.device.profiles import load_profiles
from edge_agent.inference.tensorrt_build import plan_build
from edge_agent.inference.tensorrt_settings import TrtCapabilities
from edge_agent.models.standin import write_standin
from edge_agent.models.store import load_model_record
from edge_agent.pipeline.calibration_choice import calibration_for_build


def install(root: Path, record_name: str, version: str, model_sha: str, names: list) -> Path:
    folder = store.version_dir(root, record_name, version) / "local"
    folder.mkdir(parents=True)
    text = format_cache(8601, {name: 0.01 for name in names})
    (folder / store.CACHE_NAME).write_bytes(text.encode("utf-8"))
    meta = store.metadata(record_name, version, text, "local", model_sha256=model_sha,
                          gate={"passed": True})
    (folder / store.META_NAME).write_text(json.dumps(meta), encoding="utf-8")
    return folder / store.CACHE_NAME


def test_the_store_cache_keys_the_engine(tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    write_standin("peoplesemsegnet_shuffleseg", tmp_path / "models")
    # ShuffleSeg is INT8 on the AGX Orin profile, so the cache matters
    record = load_model_record(tmp_path / "models", "peoplesemsegnet_shuffleseg")
    names = sorted(store.model_tensor_names(record.onnx_path))[:3]
    caps = TrtCapabilities("8.6.2.3", True, True, 2)  # what TensorRT reports on an AGX Orin
    cache = install(tmp_path / "calib", record.name, record.manifest.ngc_version, record.sha256,
                    names)
    chosen = calibration_for_build(record, caps.version, tmp_path / "calib")
    assert chosen == cache
    profile = load_profiles()["agx_orin"]
    identity = read_identity(tmp_path)
    with_cache = plan_build(identity, profile, record, caps, chosen)
    without = plan_build(identity, profile, record, caps, None)
    assert with_cache.key.calibration_sha256 == store.sha256_bytes(cache.read_bytes())
    assert without.key.calibration_sha256 != with_cache.key.calibration_sha256
    # A cache calibrated for another file of the model is not used, and the log says why.
    other = tmp_path / "calib2"
    install(other, record.name, record.manifest.ngc_version, "f" * 64, names)
    caplog.set_level(logging.WARNING)
    assert calibration_for_build(record, caps.version, other) is None
    assert "calibration cache not used" in caplog.text
