"""Human parts end to end on the stand-in through ONNX Runtime: crops, mapping back, events, PNG.

The stand-in marks dark pixels of a crop as person and cuts them into C - 1 horizontal bands
(class 1 on top); a dark person drawn on a light frame must therefore come back as bands at the
person's box, in frame coordinates, decodable by pycocotools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List

import cv2
import numpy as np
import pytest
from pycocotools import mask as coco_mask

from edge_agent.events.segic_payloads import PartsEvent
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.frames import Frame
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models import peoplenet
from edge_agent.models.manifest import ModelManifest, load_manifest
from edge_agent.models.standin.human_parts import band_class, build_human_parts, with_class_count
from edge_agent.parts.crops import select_people
from edge_agent.parts.render import palette_bgr, render_parts_png
from edge_agent.pipeline.parts_sink import PartsSink
from edge_agent.pipeline.parts_task import PartsTask
from edge_agent.pipeline.people_engine import PeopleResult
from edge_agent.runtime.task import TaskResult, WorkItem
from edge_agent.settings.segic import HumanPartsSettings

CLASSES = 5  # background + 4 bands


@pytest.fixture(scope="module")
def manifest() -> ModelManifest:
    return with_class_count(load_manifest("human_parts"), CLASSES)


@pytest.fixture(scope="module")
def backend(manifest: ModelManifest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[OnnxRuntimeBackend]:
    path = tmp_path_factory.mktemp("m") / "parts5.onnx"
    path.write_bytes(build_human_parts(manifest).SerializeToString())
    b = OnnxRuntimeBackend(path, ["CPUExecutionProvider"])
    yield b
    b.close()


def people_frame(seq: int = 1) -> WorkItem:
    pixels = np.full((240, 320, 3), 210, np.uint8)
    pixels[40:200, 100:140] = 20  # person A: 160 px tall
    pixels[100:130, 250:260] = 20  # person B: 30 px tall (below min height)
    frame = Frame("door", seq, 1_700_000_000.0, 10.0, pixels)
    boxes = np.array([[100, 40, 140, 200], [250, 100, 260, 130]], np.float32)
    det = peoplenet.Detections(boxes, np.array([0.9, 0.8], np.float32),
                               np.zeros(2, np.int64), (320, 240))
    return WorkItem(frame, PeopleResult(frame, det, None))


def run(task: PartsTask, items: List[WorkItem]) -> List[TaskResult]:
    values = task.decode(items, task.run(task.prepare(items)))
    return [TaskResult(task.name, item, value) for item, value in zip(items, values)]


def task_for(backend: OnnxRuntimeBackend, manifest: ModelManifest) -> PartsTask:
    return PartsTask(backend, manifest, HumanPartsSettings(enabled=True, min_box_height_px=48),
                     ["door"], standin=True)


def test_parts_are_bands_of_the_person_at_its_box(backend: OnnxRuntimeBackend,
                                                  manifest: ModelManifest) -> None:
    task = task_for(backend, manifest)
    assert task.upstream == "reid" and task.labels[0] == "background"
    (result,) = run(task, [people_frame()])
    (person,) = result.value.people  # B is too small
    assert person.index == 0 and person.box == (100, 40, 140, 200)
    rows = np.arange(160)
    net_rows = (rows + 0.5) * 288 / 160 - 0.5  # nearest resize from the 288-row output
    expected = [band_class(int(round(r)), 288, CLASSES) for r in net_rows]
    column = person.class_map[:, 20]
    assert np.mean(column == np.array(expected)) > 0.97
    assert set(person.part_pixels()) == {1, 2, 3, 4}
    assert sum(person.part_pixels().values()) == 160 * 40


def test_events_decode_with_pycocotools_to_frame_positions(backend: OnnxRuntimeBackend,
                                                           manifest: ModelManifest) -> None:
    task = task_for(backend, manifest)
    results = run(task, [people_frame(), people_frame(2)])
    sink = PartsSink("dev1", Topics("edge", "dev1"), SequenceCounter(), manifest.name,
                     manifest.labels, standin=True, clock=lambda: 1_700_000_001.0)
    messages = sink.handle(results)
    assert [m.topic for m in messages] == ["edge/dev1/door/parts"] * 2
    event = PartsEvent.model_validate_json(messages[0].payload)
    (person,) = event.people
    assert person.box == [100, 40, 140, 200]
    union = np.zeros((240, 320), bool)
    for part in person.parts:
        decoded = coco_mask.decode({"size": part.mask.size,
                                    "counts": part.mask.counts.encode("ascii")}).astype(bool)
        assert decoded.sum() == part.pixels and part.label == manifest.labels[part.class_id]
        ys, xs = np.nonzero(decoded)
        assert ys.min() >= 40 and ys.max() < 200 and xs.min() >= 100 and xs.max() < 140
        assert not (union & decoded).any()
        union |= decoded
    assert union[40:200, 100:140].all() and union.sum() == 160 * 40
    top = next(p for p in person.parts if p.class_id == 1)
    assert coco_mask.decode({"size": top.mask.size, "counts": top.mask.counts.encode()})[45, 120]


def test_frames_without_people_send_nothing(backend: OnnxRuntimeBackend,
                                            manifest: ModelManifest) -> None:
    task = task_for(backend, manifest)
    item = people_frame()
    empty = peoplenet.Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                                 np.zeros(0, np.int64), (320, 240))
    results = run(task, [WorkItem(item.frame, PeopleResult(item.frame, empty, None))])
    assert results[0].value.people == ()
    sink = PartsSink("dev1", Topics("edge", "dev1"), SequenceCounter(), "m", ["bg"], True)
    assert sink.handle(results) == []


def test_wrong_upstream_is_a_clear_error(backend: OnnxRuntimeBackend,
                                         manifest: ModelManifest) -> None:
    task = task_for(backend, manifest)
    with pytest.raises(TypeError, match="PeopleResult"):
        task.prepare([WorkItem(people_frame().frame, "boxes")])


def test_selection_clips_and_keeps_the_tallest() -> None:
    boxes = np.array([[-5, -5, 10, 100], [0, 0, 5, 20], [300, 10, 400, 90]], np.float32)
    chosen = select_people(boxes, (320, 240), min_height_px=50, max_people=1)
    assert [(c.index, c.box) for c in chosen] == [(0, (0, 0, 10, 100))]


def test_standin_class_count_follows_the_manifest(tmp_path: Path) -> None:
    full = load_manifest("human_parts")
    assert len(full.labels) == 59 and full.labels[3] == "Face"
    three = with_class_count(full, 3)
    assert three.labels == ["background", "Cap/Hat", "Helmet"]
    assert three.outputs[0].shape[1] == 3
    with pytest.raises(ValueError, match="at least 2"):
        with_class_count(full, 1)


def test_render_colours_parts_and_leaves_background(backend: OnnxRuntimeBackend,
                                                    manifest: ModelManifest,
                                                    tmp_path: Path) -> None:
    task = task_for(backend, manifest)
    item = people_frame()
    (result,) = run(task, [item])
    png = render_parts_png(item.frame.pixels, result.value.people, CLASSES, alpha=0.5)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (240, 320, 3)
    assert np.array_equal(image[220:, :], item.frame.pixels[220:, :])  # untouched
    colours = palette_bgr(CLASSES)
    assert len({tuple(c) for c in colours}) == CLASSES
    expected = np.rint(0.5 * 20 + 0.5 * colours[1].astype(np.float64))
    assert image[45, 120].tolist() == expected.astype(int).tolist()
    (tmp_path / "parts.png").write_bytes(png)


def test_argmax_matches_numpy_including_ties() -> None:
    from edge_agent.parts.decode import argmax_classes

    rng = np.random.RandomState(2)
    logits = rng.randint(0, 4, size=(7, 30, 20)).astype(np.float32)  # many ties
    assert np.array_equal(argmax_classes(logits, np.uint8), np.argmax(logits, axis=0))
