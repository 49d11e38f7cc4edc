"""Payload models: what consumers can rely on in the JSON, and what the producer may not send."""

from __future__ import annotations

import json
import threading
from typing import Any, Dict, List

import numpy as np
import pytest
from pydantic import ValidationError

from edge_agent.events.payloads import (
    SCHEMA_VERSION,
    MaskEvent,
    MaskRle,
    StatusPayload,
    ZoneCoverage,
    payload_schemas,
    to_json_bytes,
)
from edge_agent.events.rle import Rle, decode_rle, encode_rle
from edge_agent.events.sequence import SequenceCounter, new_event_id


def _mask_rle() -> MaskRle:
    mask = np.zeros((4, 6), dtype=np.uint8)
    mask[1:3, 2:5] = 1
    return MaskRle.from_rle(encode_rle(mask))


def _event(**overrides: Any) -> MaskEvent:
    fields: Dict[str, Any] = dict(
        event_id=new_event_id(),
        device_id="jetson-1",
        camera_id="lobby",
        capture_ts=1_700_000_000.25,
        emitted_ts=1_700_000_000.5,
        seq=7,
        standin=True,
        model="peoplesemsegnet_shuffleseg",
        frame_seq=3,
        frame_width=960,
        frame_height=544,
        person_fraction=0.125,
        zones=[ZoneCoverage(name="entrance", coverage=0.5)],
        mask=_mask_rle(),
        inference_ms=12.5,
    )
    fields.update(overrides)
    return MaskEvent(**fields)


def test_mask_event_round_trips_through_compact_json() -> None:
    event = _event()
    data = to_json_bytes(event)
    assert b": " not in data and b", " not in data
    document = json.loads(data)
    assert document["type"] == "mask"
    assert document["schema_version"] == SCHEMA_VERSION
    assert MaskEvent.model_validate_json(data) == event


def test_mask_rle_from_rle_is_decodable() -> None:
    rle = _mask_rle()
    assert rle.size == [4, 6] and rle.height == 4 and rle.width == 6
    decoded = decode_rle(Rle(size=(rle.height, rle.width), counts=rle.counts))
    assert int(decoded.sum()) == 6
    assert rle.counts_str  # the COCO string form is filled in


def test_unknown_fields_are_rejected() -> None:
    document = json.loads(to_json_bytes(_event()))
    document["colour"] = "red"
    with pytest.raises(ValidationError, match="colour"):
        MaskEvent.model_validate(document)


@pytest.mark.parametrize(
    "overrides",
    [
        {"event_id": "not-a-uuid"},
        {"person_fraction": 1.5},
        {"seq": -1},
        {"frame_width": 0},
        {"zones": [{"name": "z", "coverage": 2.0}]},
    ],
)
def test_out_of_range_values_are_rejected(overrides: Dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _event(**overrides)


def test_mask_rle_must_cover_its_grid() -> None:
    with pytest.raises(ValidationError, match="runs cover"):
        MaskRle(size=[2, 2], counts=[1, 2], counts_str="", width=2, height=2)
    with pytest.raises(ValidationError, match="size"):
        MaskRle(size=[2, 3], counts=[6], counts_str="", width=2, height=3)


def test_status_will_has_no_timestamp() -> None:
    will = StatusPayload(state="offline", device_id="d", ts=None, version="0.1.0", session=3)
    assert json.loads(to_json_bytes(will)) == {
        "state": "offline",
        "device_id": "d",
        "ts": None,
        "version": "0.1.0",
        "session": 3,
    }
    with pytest.raises(ValidationError):
        StatusPayload.model_validate(
            {"state": "gone", "device_id": "d", "ts": 1.0, "version": "0", "session": 0}
        )


def test_every_field_has_a_description() -> None:
    def walk(schema: Dict[str, Any], missing: List[str], where: str) -> None:
        for name, prop in schema.get("properties", {}).items():
            if "description" not in prop:
                missing.append(f"{where}.{name}")
        for sub_name, sub in schema.get("$defs", {}).items():
            walk(sub, missing, sub_name)

    missing: List[str] = []
    for name, schema in payload_schemas().items():
        walk(schema, missing, name)
    assert missing == []


def test_sequence_counter_never_repeats_across_threads() -> None:
    counter = SequenceCounter()
    seen: List[int] = []
    lock = threading.Lock()

    def take() -> None:
        values = [counter.next() for _ in range(2000)]
        with lock:
            seen.extend(values)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(8000))
    assert counter.issued == 8000


def test_event_ids_are_uuid4_hex() -> None:
    ids = {new_event_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(value) == 32 and value[12] == "4" for value in ids)
