"""The model store refuses missing, unverifiable or modified model files, saying how to fix it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from edge_agent.errors import InputNotFoundError, ModelContractError
from edge_agent.models.standin import write_standin
from edge_agent.models.store import load_model_record, sha256_file


@pytest.fixture()
def peoplenet_dir(tmp_path: Path) -> Path:
    write_standin("peoplenet", tmp_path)
    return tmp_path


def test_standin_record_is_verified_and_flagged(peoplenet_dir: Path) -> None:
    record = load_model_record(peoplenet_dir, "peoplenet")
    assert record.name == "peoplenet"
    assert record.onnx_path == peoplenet_dir / "peoplenet.onnx"
    assert record.standin is True
    assert record.sha256 == hashlib.sha256(record.onnx_path.read_bytes()).hexdigest()
    assert record.manifest.sha256 == record.sha256
    assert record.manifest.input_specs()[0].name == "input_1:0"


def test_sidecar_flag_false_or_absent_means_a_real_model(peoplenet_dir: Path) -> None:
    sidecar = peoplenet_dir / "peoplenet.manifest.json"
    data = json.loads(sidecar.read_text())
    data["standin"] = False
    sidecar.write_text(json.dumps(data))
    assert load_model_record(peoplenet_dir, "peoplenet").standin is False
    del data["standin"], data["generator_version"]
    sidecar.write_text(json.dumps(data))
    assert load_model_record(peoplenet_dir, "peoplenet").standin is False


def test_missing_model_names_path_and_the_standin_command(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError) as err:
        load_model_record(tmp_path, "reidentificationnet")
    assert str(tmp_path / "reidentificationnet.onnx") in err.value.problem
    assert f"edge-agent models standin reidentificationnet --out {tmp_path}" in err.value.fix


def test_tampered_file_shows_both_hashes(peoplenet_dir: Path) -> None:
    path = peoplenet_dir / "peoplenet.onnx"
    recorded = hashlib.sha256(path.read_bytes()).hexdigest()
    with path.open("ab") as handle:
        handle.write(b"\0")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ModelContractError) as err:
        load_model_record(peoplenet_dir, "peoplenet")
    assert recorded in err.value.problem
    assert actual in err.value.problem
    assert "edge-agent models standin peoplenet" in err.value.fix


def test_missing_sidecar_is_a_contract_error(peoplenet_dir: Path) -> None:
    (peoplenet_dir / "peoplenet.manifest.json").unlink()
    with pytest.raises(ModelContractError, match="peoplenet.manifest.json does not exist"):
        load_model_record(peoplenet_dir, "peoplenet")


@pytest.mark.parametrize(
    "content, match",
    [
        ("{not json", "cannot be read as JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"name": "peoplenet"}', "is invalid"),
    ],
)
def test_invalid_sidecar_is_a_contract_error(peoplenet_dir: Path, content: str, match: str) -> None:
    (peoplenet_dir / "peoplenet.manifest.json").write_text(content)
    with pytest.raises(ModelContractError, match=match) as err:
        load_model_record(peoplenet_dir, "peoplenet")
    assert "peoplenet.manifest.json" in err.value.problem


def test_sidecar_for_another_model_or_without_hash_is_rejected(peoplenet_dir: Path) -> None:
    sidecar = peoplenet_dir / "peoplenet.manifest.json"
    data = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**data, "name": "reidentificationnet"}))
    with pytest.raises(ModelContractError, match="describes model 'reidentificationnet'"):
        load_model_record(peoplenet_dir, "peoplenet")
    sidecar.write_text(json.dumps({**data, "sha256": ""}))
    with pytest.raises(ModelContractError, match="records no sha256"):
        load_model_record(peoplenet_dir, "peoplenet")


def test_hash_in_chunks_equals_whole_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 9000)  # spans three 1 MiB chunks
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
