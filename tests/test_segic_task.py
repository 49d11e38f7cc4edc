"""SegIC end to end on the stand-ins through ONNX Runtime: task, events, zone state, decisions.

The stand-in pair segments pixels within 0.1 (about 25 grey levels) of the prompt's mean colour,
so a red square in the frame must come back as exactly that square, on the frame grid, through
the contract's letterbox and its inverse; events are decoded with pycocotools, the reference
implementation consumers use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, List, Tuple

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from edge_agent.events.segic_payloads import CocoRle, SegicMaskEvent, SegicZoneState
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.frames import Frame
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.standin import write_standin
from edge_agent.pipeline.segic_sink import SegicSink
from edge_agent.pipeline.segic_task import SegicTask
from edge_agent.runtime.task import TaskResult, WorkItem
from edge_agent.segic.cache import FeatureCache
from edge_agent.segic.device_support import segic_support
from edge_agent.segic.features import PromptFeatureExtractor
from edge_agent.segic.prompts import PromptExample, make_prompt
from edge_agent.segic.store import PromptStore
from edge_agent.segic.tokens import WordTokenizer
from edge_agent.settings import CameraSettings

RED_RGB = (220, 20, 20)
BLUE_RGB = (20, 20, 220)
CPU = ["CPUExecutionProvider"]


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Tuple[OnnxRuntimeBackend, OnnxRuntimeBackend]]:
    out = tmp_path_factory.mktemp("m")
    seg = OnnxRuntimeBackend(write_standin("segic", out), CPU)
    ext = OnnxRuntimeBackend(write_standin("segic_prompt_feature_extract", out), CPU)
    yield seg, ext
    seg.close()
    ext.close()


def example(colour_rgb: Tuple[int, int, int]) -> PromptExample:
    image = np.full((90, 120, 3), 128, np.uint8)
    image[20:60, 30:90] = colour_rgb
    mask = np.zeros((90, 120), np.uint8)
    mask[20:60, 30:90] = 255
    return PromptExample(image, mask)


def frame_with_square(camera: str = "door", seq: int = 1) -> Frame:
    pixels = np.full((270, 480, 3), 235, np.uint8)  # BGR, light grey
    pixels[100:160, 300:420] = RED_RGB[::-1]
    return Frame(camera, seq, 1_700_000_000.0, 100.0 + seq, pixels)


@pytest.fixture()
def store(backends: Tuple[OnnxRuntimeBackend, OnnxRuntimeBackend], tmp_path: Path
          ) -> PromptStore:
    extractor = PromptFeatureExtractor(backends[1], FeatureCache(tmp_path, 8), WordTokenizer(),
                                       "standin")
    store = PromptStore(extractor, max_prompts=4)
    cameras = ("door", "yard")
    # Two examples for "cart": an empty-looking one (blue) and the red one; the contract keeps
    # the example with the largest mask.
    store.add(make_prompt("cart", [example(BLUE_RGB), example(RED_RGB)], "cart", ["door"],
                          cameras))
    store.add(make_prompt("box", [example(BLUE_RGB)], "", ["door", "yard"], cameras))
    return store


def run_task(task: SegicTask, frames: List[Frame]) -> List[TaskResult]:
    items = [WorkItem(f) for f in frames]
    values = task.decode(items, task.run(task.prepare(items)))
    return [TaskResult(task.name, item, value) for item, value in zip(items, values)]


def test_task_segments_the_prompt_colour_on_the_frame_grid(
        backends: Tuple[OnnxRuntimeBackend, OnnxRuntimeBackend], store: PromptStore) -> None:
    task = SegicTask(backends[0], store, "segic", standin=True, rate_hz=0.2)
    assert task.cameras == frozenset({"door", "yard"}) and task.upstream is None
    assert task.priority == "low" and task.rate_hz == 0.2 and task.calls_for("door") == 2
    (result,) = run_task(task, [frame_with_square()])
    masks = {m.prompt_id: m for m in result.value.masks}
    assert sorted(masks) == ["box", "cart"]
    cart = masks["cart"]
    expected = np.zeros((270, 480), bool)
    expected[100:160, 300:420] = True
    assert cart.mask.shape == (270, 480)
    # Edges are bilinear back from the 896 grid; allow one pixel of border disagreement.
    assert np.count_nonzero(cart.mask ^ expected) <= 2 * (60 + 120)
    assert cart.example == 1 and 0.5 < cart.score <= 1.0
    assert not masks["box"].mask.any() and masks["box"].score == 0.0


def test_events_round_trip_through_pycocotools_and_zone_state_is_retained(
        backends: Tuple[OnnxRuntimeBackend, OnnxRuntimeBackend], store: PromptStore) -> None:
    task = SegicTask(backends[0], store, "segic", standin=True, rate_hz=0.2)
    camera = CameraSettings(id="door", url="file:///dev/null", zones=[
        {"name": "bay", "polygon": [(0.6, 0.3), (0.95, 0.3), (0.95, 0.7), (0.6, 0.7)]},
        {"name": "aisle", "polygon": [(0.0, 0.0), (0.3, 0.0), (0.3, 0.3), (0.0, 0.3)]}])
    sink = SegicSink("dev1", Topics("edge", "dev1"), [camera], SequenceCounter(), "segic", True,
                     min_coverage=0.05, refresh_s=60.0, clock=lambda: 1_700_000_001.0)
    results = run_task(task, [frame_with_square(seq=1)])
    messages = sink.handle(results)
    events = [m for m in messages if m.topic == "edge/dev1/door/segic"]
    states = [m for m in messages if "/zone/" in m.topic]
    assert len(events) == 2 and all(not m.retain for m in events)
    for message in events:
        event = SegicMaskEvent.model_validate_json(message.payload)
        mask_from_rle = coco_mask.decode({"size": event.mask.size,
                                          "counts": event.mask.counts.encode("ascii")})
        value = next(m for m in results[0].value.masks if m.prompt_id == event.prompt_id)
        assert np.array_equal(mask_from_rle.astype(bool), value.mask)
        assert event.frame_seq == 1 and event.standin
        assert event.area_fraction == pytest.approx(value.area_fraction)
    assert sorted(m.topic for m in states) == [
        "edge/dev1/door/zone/aisle/segic/box", "edge/dev1/door/zone/aisle/segic/cart",
        "edge/dev1/door/zone/bay/segic/box", "edge/dev1/door/zone/bay/segic/cart"]
    assert all(m.retain and m.channel == "state" for m in states)
    present = {m.topic: SegicZoneState.model_validate_json(m.payload).present for m in states}
    assert present["edge/dev1/door/zone/bay/segic/cart"]
    assert not present["edge/dev1/door/zone/aisle/segic/cart"]
    # Unchanged next frame: no zone state again until the refresh interval.
    again = sink.handle(run_task(task, [frame_with_square(seq=2)]))
    assert [m for m in again if "/zone/" in m.topic] == []
    late = sink.handle(run_task(task, [frame_with_square(seq=70)]))
    assert len([m for m in late if "/zone/" in m.topic]) == 4
    cleared = sink.forget_prompt("cart")
    assert sorted(m.topic for m in cleared) == ["edge/dev1/door/zone/aisle/segic/cart",
                                                "edge/dev1/door/zone/bay/segic/cart"]
    assert all(m.retain and m.payload == b"" for m in cleared)
    assert sink.forget_prompt("cart") == []


def test_removed_prompt_is_not_run_on_the_next_frame(
        backends: Tuple[OnnxRuntimeBackend, OnnxRuntimeBackend], store: PromptStore) -> None:
    task = SegicTask(backends[0], store, "segic", standin=True, rate_hz=0.2)
    store.remove("cart")
    (result,) = run_task(task, [frame_with_square()])
    assert [m.prompt_id for m in result.value.masks] == ["box"]
    assert task.cameras == frozenset({"door", "yard"})


def test_coco_rle_model_rejects_runs_that_do_not_cover_the_grid() -> None:
    good = CocoRle.from_mask(np.eye(4, dtype=bool))
    assert coco_mask.decode({"size": good.size, "counts": good.counts.encode()}).sum() == 4
    with pytest.raises(ValueError, match="runs cover"):
        CocoRle(size=[4, 5], counts=good.counts)
    doc = json.loads(good.model_dump_json())
    assert set(doc) == {"size", "counts"}


@pytest.mark.parametrize("kind,enabled", [("agx_orin", True), ("orin_nx", True), ("nano", False),
                                          ("agx_xavier", False), ("xavier_nx", False),
                                          ("orin_nano", False), ("cpu", False),
                                          ("x86_gpu", True)])
def test_device_decision_at_the_default_rate(kind: str, enabled: bool) -> None:
    decision = segic_support(kind, rate_hz=0.2, prompts=1, gpu_share=0.25, standin=False)
    assert decision.enabled is enabled
    assert kind in decision.reason or kind == "x86_gpu" or kind == "cpu"
    if not enabled and kind != "cpu":
        assert "no throughput" in decision.reason


def test_orin_nx_is_disabled_when_the_rate_would_take_too_much_gpu() -> None:
    decision = segic_support("orin_nx", rate_hz=0.5, prompts=2, gpu_share=0.25, standin=False)
    # 1 call/s on a 1.26 fps model is 79% of the GPU.
    assert not decision.enabled and decision.gpu_share_needed == pytest.approx(1 / 1.26)
    assert "1.26 fps" in decision.reason and "rate_hz" in decision.reason
    assert segic_support("nano", 1.0, 4, 0.25, standin=True).enabled


def test_letterboxed_frame_is_rgb(backends: Tuple[OnnxRuntimeBackend, OnnxRuntimeBackend],
                                  store: PromptStore) -> None:
    task = SegicTask(backends[0], store, "segic", standin=True, rate_hz=0.2)
    (prepared,) = task.prepare([WorkItem(frame_with_square())])
    assert prepared.box.ori_sizes.tolist() == [[504, 896]]
    pixel = prepared.image[0, :, 130 * 504 // 270, 360 * 896 // 480]
    assert pixel.tolist() == [float(v) for v in RED_RGB]


def test_snapshot_tints_the_found_object_green(
        backends: Tuple[OnnxRuntimeBackend, OnnxRuntimeBackend], store: PromptStore,
        tmp_path: Path) -> None:
    import cv2

    from edge_agent.segic.render import render_masks_png

    task = SegicTask(backends[0], store, "segic", standin=True, rate_hz=0.2)
    frame = frame_with_square()
    (result,) = run_task(task, [frame])
    masks = sorted(result.value.masks, key=lambda m: m.prompt_id != "cart")  # cart first
    png = render_masks_png(frame.pixels, masks)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    red_bgr = np.array(RED_RGB[::-1], np.float64)
    expected = np.rint(0.5 * red_bgr + 0.5 * np.array([0, 255, 0]))
    assert image[130, 360].tolist() == expected.astype(int).tolist()
    assert np.array_equal(image[250:, :], frame.pixels[250:, :])  # background untouched
    (tmp_path / "segic.png").write_bytes(png)
