"""Chunked prompt transfer: reassembly in any order, duplicates, conflicts, timeouts, bounds."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.errors import ConfigError
from edge_agent.segic.chunks import ChunkReassembler, parse_chunk, split_document

DOC = bytes(range(256)) * 40  # 10240 bytes


def reassembler() -> ChunkReassembler:
    return ChunkReassembler(timeout_s=10.0, max_transfers=2, max_document_bytes=64 * 1024)


def test_out_of_order_with_duplicates_reassembles_exactly() -> None:
    chunks = split_document(DOC, "t1", 1000)
    assert len(chunks) == 11 and all(c.sha256 == hashlib.sha256(DOC).hexdigest() for c in chunks)
    r = reassembler()
    order = list(reversed(chunks[1:])) + [chunks[3], chunks[5]]
    for chunk in order:
        assert r.accept(chunk, 0.0) is None
    assert r.stats().duplicates == 2 and r.stats().in_progress == 1
    assert r.accept(chunks[0], 1.0) == DOC
    assert r.stats().completed == 1 and r.stats().in_progress == 0


def test_wire_form_round_trips_and_bad_json_names_fields() -> None:
    (chunk,) = split_document(b"hello", "t1", 100)
    assert parse_chunk(chunk.model_dump_json().encode(), "cmd") == chunk
    with pytest.raises(ConfigError) as err:
        parse_chunk(b'{"transfer_id": "t", "index": 3, "count": 2}', "cmd/segic/chunk")
    assert "cmd/segic/chunk" in err.value.problem and "total_bytes" in err.value.problem


def test_conflicting_duplicate_and_header_are_refused() -> None:
    a = split_document(DOC, "t1", 4000)
    b = split_document(DOC[::-1], "t1", 4000)
    r = reassembler()
    r.accept(a[0], 0.0)
    with pytest.raises(ConfigError, match="disagrees"):
        r.accept(b[1], 0.0)
    assert r.stats().in_progress == 0
    same_header = a[1].model_copy(update={"data": a[2].data})
    r.accept(a[1], 0.0)
    with pytest.raises(ConfigError, match="twice with different data"):
        r.accept(same_header, 0.0)


def test_idle_transfers_time_out() -> None:
    chunks = split_document(DOC, "slow", 1000)
    r = reassembler()
    r.accept(chunks[0], 0.0)
    r.accept(chunks[1], 9.0)  # keeps it alive
    assert r.expire(18.0) == []
    assert r.expire(19.5) == ["slow"]
    assert r.stats().expired == 1
    # The late rest starts a new, incomplete transfer rather than completing a stale one.
    for chunk in chunks[2:]:
        assert r.accept(chunk, 20.0) is None


def test_bounds_on_size_and_concurrent_transfers() -> None:
    r = ChunkReassembler(timeout_s=10.0, max_transfers=1, max_document_bytes=5000)
    with pytest.raises(ConfigError, match="limit is 5000"):
        r.accept(split_document(DOC, "big", 1000)[0], 0.0)
    r.accept(split_document(DOC[:4000], "one", 1000)[0], 0.0)
    with pytest.raises(ConfigError, match="1 transfers in progress"):
        r.accept(split_document(DOC[:3000], "two", 1000)[0], 0.0)


def test_corrupted_slice_fails_the_final_checksum() -> None:
    chunks = split_document(DOC, "t1", 5000)
    other = split_document(DOC[:5000][::-1] + DOC[5000:], "t1", 5000)
    r = reassembler()
    r.accept(other[0].model_copy(update={"sha256": chunks[0].sha256}), 0.0)
    assert r.accept(chunks[1], 0.0) is None
    with pytest.raises(ConfigError, match="sha256"):
        r.accept(chunks[2], 0.0)


def test_index_must_be_below_count() -> None:
    with pytest.raises(ConfigError, match="below count"):
        parse_chunk(b'{"transfer_id": "t", "index": 2, "count": 2, "total_bytes": 1, '
                    b'"sha256": "' + b"0" * 64 + b'", "data": ""}', "cmd")


def test_chunked_add_then_list_and_remove_through_commands(tmp_path: Path) -> None:
    from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
    from edge_agent.models.standin import write_standin
    from edge_agent.segic.cache import FeatureCache
    from edge_agent.segic.commands import ADD, CHUNK, LIST, REMOVE, PromptCommands
    from edge_agent.segic.features import PromptFeatureExtractor
    from edge_agent.segic.store import PromptStore
    from edge_agent.segic.tokens import WordTokenizer

    backend = OnnxRuntimeBackend(write_standin("segic_prompt_feature_extract", tmp_path / "m"),
                                 ["CPUExecutionProvider"])
    try:
        store = PromptStore(PromptFeatureExtractor(backend, FeatureCache(tmp_path / "c", 4),
                                                   WordTokenizer(), "standin"), 4)
        commands = PromptCommands(store, ChunkReassembler(10.0, 2, 4 * 1024 * 1024),
                                  ["door", "yard"])
        rng = np.random.RandomState(1)
        image = rng.randint(0, 256, size=(300, 400, 3)).astype(np.uint8)  # noisy: big PNG
        mask = np.zeros((300, 400), np.uint8)
        mask[50:150, 60:200] = 255
        doc = json.dumps({"id": "cart", "cameras": ["door"], "examples": [
            {"image": _png(image), "mask": _png(mask)}]}).encode()
        chunks = split_document(doc, "x1", 64 * 1024)
        assert len(chunks) > 3
        replies = [commands.handle(CHUNK, c.model_dump_json().encode(), 0.0)
                   for c in reversed(chunks)]
        assert all(r.ok for r in replies) and "active on door" in replies[-1].message
        listed = commands.handle(LIST, b"", 0.0)
        assert [p.prompt_id for p in listed.prompts] == ["cart"]
        again = commands.handle(ADD, doc, 0.0)
        assert not again.ok and "already exists" in again.message
        bad = commands.handle(ADD, doc.replace(b'"door"', b'"garage"'), 0.0)
        assert not bad.ok and "door, yard" in bad.fix
        assert commands.handle(REMOVE, b'{"id": "cart"}', 0.0).ok
        assert not commands.handle(REMOVE, b"nope", 0.0).ok
        assert not commands.handle("segic/prompt/zap", b"", 0.0).ok
        assert commands.handle(LIST, b"", 0.0).prompts == []
    finally:
        backend.close()


def _png(image: np.ndarray) -> str:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return base64.b64encode(data.tobytes()).decode("ascii")
