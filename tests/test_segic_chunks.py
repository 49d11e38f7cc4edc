"""Chunked prompt transfer: reassembly in any order, duplicates, conflicts, timeouts, bounds."""

from __future__ import annotations

import hashlib

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
