"""The pieces that wire pose into the agent, each on its own: the tracks feed (published
stream unchanged), the graph accepting a feed as upstream, PoseTask on two cameras in one
batch with the stand-in models in ONNX Runtime, PoseSink's messages, the snapshot writer,
Home Assistant pose sensors and the scheduler planning pose without a latency seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional, Tuple

import cv2
import numpy as np
import pytest

from edge_agent.device.profiles import load_profiles
from edge_agent.errors import ConfigError
from edge_agent.events.pose_payloads import PoseEvent, PoseZoneCountPayload
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.frames import Frame
from edge_agent.models.peoplenet import Detections
from edge_agent.models.semseg import SegOutput
from edge_agent.models.standin import write_standin
from edge_agent.pipeline.people_engine import PeopleResult
from edge_agent.pipeline.pose_models import load_pose_engine
from edge_agent.pipeline.pose_sink import PoseSink
from edge_agent.pipeline.pose_task import PoseFrameResult, PosePerson, PoseTask
from edge_agent.pipeline.snapshots import SnapshotWriter
from edge_agent.pipeline.track_feed import TRACKS_FEED, FrameTracks, TrackedPerson
from edge_agent.pipeline.tracking_sink import TrackingSink
from edge_agent.pose.pose_events import PoseChange
from edge_agent.runtime.graph import check_graph
from edge_agent.runtime.task import TaskResult, WorkItem
from edge_agent.scheduler.device_plan import plan_device
from edge_agent.scheduler.latency_table import load_latency_tables
from edge_agent.scheduler.tasks import Workload, default_tasks
from edge_agent.settings import AgentSettings, CameraSettings
from edge_agent.settings.models import SnapshotSettings
from edge_agent.settings.pose import KeypointMessageSettings
from edge_agent.settings.tracking import TrackingSettings
from edge_agent.transport.ha_discovery import HaDiscovery

CAMERA = CameraSettings(id="cam1", url="x.avi", zones=[
    {"name": "left", "polygon": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]}])


def frame(camera: str, k: int, width: int = 640, height: int = 480) -> Frame:
    pixels = np.full((height, width, 3), 200, np.uint8)
    return Frame(camera, k + 1, 1000.0 + k / 10.0, k / 10.0, pixels)


def people(camera: str, k: int, boxes: List[List[float]]) -> PeopleResult:
    array = np.array(boxes, np.float32).reshape(-1, 4)
    # 0.6: confident enough to start a track, below the score that confirms one at once, so
    # the first frame's track is tentative.
    det = Detections(array, np.full(len(array), 0.6, np.float32),
                     np.zeros(len(array), np.int64), (640, 480))
    return PeopleResult(frame(camera, k), det, None)


def test_the_tracks_feed_leaves_the_published_stream_unchanged() -> None:
    def run(feed: bool) -> Tuple[List[Tuple[str, Any]], TrackingSink]:
        sink = TrackingSink(TrackingSettings(enabled=True, min_hits=2, warmup_s=0.0),
                            Topics("ea", "dev"), "dev", SequenceCounter(), 1, True,
                            clock=lambda: 1000.0, feed_tracks=feed)
        sink.set_cameras([CAMERA])
        out = []
        for k in range(6):
            box = [[50 + 5 * k, 100, 120 + 5 * k, 300]]
            for message in sink.handle([people("cam1", k, box)]):
                payload = message.payload
                doc = json.loads(payload) if payload.startswith(b"{") else payload
                if isinstance(doc, dict):  # ids and times differ run to run
                    for key in ("event_id", "emitted_ts", "id", "start_ts", "reid_id"):
                        doc.pop(key, None)
                out.append((message.topic, doc))
        return out, sink

    plain, plain_sink = run(False)
    fed, fed_sink = run(True)
    assert plain == fed and plain
    assert plain_sink.take_track_lists() == []
    lists = fed_sink.take_track_lists()
    assert len(lists) == 6 and fed_sink.take_track_lists() == []
    confirmed = lists[-1][1]
    assert [p.track_id for p in confirmed.people] == [1] and confirmed.people[0].zones == ("left",)
    assert lists[0][1].people == (), "tentative tracks are not fed"


class _Fake:
    """Minimal task for the graph check (no model)."""

    def __init__(self, name: str, upstream: Optional[str]) -> None:
        self.name, self.upstream, self.resource = name, upstream, "cpu"


def test_a_feed_is_an_upstream_the_graph_accepts_but_a_missing_task_is_not() -> None:
    tasks: Any = [_Fake("pose", TRACKS_FEED), _Fake("peoplenet", None)]
    assert [t.name for t in check_graph(tasks, feeds=(TRACKS_FEED,))] == ["pose", "peoplenet"]
    with pytest.raises(ConfigError, match="'pose' needs the results of task 'tracks'"):
        check_graph(tasks)


@pytest.fixture(scope="module")
def pose_task(tmp_path_factory: pytest.TempPathFactory) -> PoseTask:
    models = tmp_path_factory.mktemp("models")
    for name in ("peoplenet", "bodypose3dnet", "poseclassificationnet"):
        write_standin(name, models)
    settings = AgentSettings(
        cameras=[{"id": "a", "url": "x.avi"}, {"id": "b", "url": "y.avi"}],
        models={"dir": str(models), "tracking": {"enabled": True, "reid_model": ""},
                "pose": {"enabled": True, "min_frames": 5, "classify_interval_s": 0.2,
                         "confirm_count": 1, "threshold": 0.01}})
    return PoseTask(load_pose_engine(settings), "bodypose3dnet", ["a", "b"])


def test_pose_task_batches_people_of_two_cameras_and_classifies_them(
        pose_task: PoseTask) -> None:
    changes: List[PoseChange] = []
    for k in range(20):
        items = [
            WorkItem(frame("a", k), FrameTracks("a", (
                TrackedPerson(1, "a-1", (100.0, 100.0, 200.0, 400.0), ("left",)),
                TrackedPerson(2, "a-2", (300.0, 80.0, 380.0, 300.0), ())), frozenset({1, 2}))),
            WorkItem(frame("b", k, 320, 240), FrameTracks("b", (
                TrackedPerson(7, "b-7", (10.0, 10.0, 60.0, 200.0), ()),), frozenset({7}))),
        ]
        results = pose_task.decode(items, pose_task.run(pose_task.prepare(items)))
        assert [r.camera_id for r in results] == ["a", "b"]
        assert all(p.skeleton is not None for r in results for p in r.people)
        changes += [c for r in results for c in r.changes]
    assert sorted((c.camera_id, c.track_id) for c in changes) == [("a", 1), ("a", 2), ("b", 7)]
    # Track 2 ended: its pose state goes with it.
    items = [WorkItem(frame("a", 21), FrameTracks("a", (), frozenset({1})))]
    pose_task.decode(items, pose_task.run(pose_task.prepare(items)))
    assert pose_task.engine.book.stable_pose(("a", 2)) is None
    assert pose_task.engine.book.stable_pose(("a", 1)) is not None
    # A reload dropped camera b: the next task over the same engine forgets b's tracks.
    only_a = PoseTask(pose_task.engine, "bodypose3dnet", ["a"])
    only_a.run(only_a.prepare(items))
    assert pose_task.engine.book.cameras() == {"a"}


def test_a_class_change_of_a_camera_not_in_the_batch_waits_for_that_camera(
        pose_task: PoseTask) -> None:
    changes: List[PoseChange] = []
    for k in range(30):  # one camera per batch, alternating
        cam = "a" if k % 2 else "b"
        tracks = FrameTracks(cam, (TrackedPerson(9, f"{cam}-9", (50.0, 40.0, 120.0, 220.0), ()),),
                             frozenset({9}))
        items = [WorkItem(frame(cam, 100 + k), tracks)]
        results = pose_task.decode(items, pose_task.run(pose_task.prepare(items)))
        assert all(c.camera_id == cam for r in results for c in r.changes)
        changes += [c for r in results for c in r.changes]
    assert sorted(c.camera_id for c in changes if c.track_id == 9) == ["a", "b"]


def _pose_result(k: int, pose: Optional[str], changes: Tuple[PoseChange, ...] = ()
                 ) -> TaskResult:
    person = TrackedPerson(3, "cam1-3", (10.0, 20.0, 110.0, 220.0), ("left",))
    value = PoseFrameResult("cam1", 640, 480, (PosePerson(person, None, pose),), changes)
    return TaskResult("pose", WorkItem(frame("cam1", k)), value)


def test_pose_sink_sends_an_event_per_class_change_and_counts_on_change_only() -> None:
    topics = Topics("ea", "dev")
    sink = PoseSink(topics, "dev", SequenceCounter(), 1, True, ["sitting", "standing"],
                    KeypointMessageSettings(), [CAMERA])
    first = sink.handle([_pose_result(0, None)])
    assert [m.topic for m in first] == ["ea/dev/cam1/zone/left/pose"]
    counts = PoseZoneCountPayload.model_validate_json(first[0].payload)
    assert counts.counts == {"sitting": 0, "standing": 0, "unknown": 1} and first[0].retain
    assert sink.handle([_pose_result(1, None)]) == [], "unchanged counts are not resent"
    change = PoseChange("cam1", 3, "sitting", None, "state", 0.8, 0.2)
    out = sink.handle([_pose_result(2, "sitting", (change,))])
    assert [m.topic for m in out] == ["ea/dev/cam1/pose", "ea/dev/cam1/zone/left/pose"]
    event = PoseEvent.model_validate_json(out[0].payload)
    assert (event.id, event.pose, event.zones, event.box) == (
        "cam1-3", "sitting", ["left"], [10.0, 20.0, 110.0, 220.0])
    assert out[0].channel == "event" and not out[0].retain
    assert json.loads(out[1].payload)["counts"]["sitting"] == 1


def test_snapshot_writer_keeps_the_frame_tracks_skeleton_class_and_mask(tmp_path: Path) -> None:
    writer = SnapshotWriter(SnapshotSettings(enabled=True, dir=tmp_path, interval_s=10.0))
    writer.observe_poses([_pose_result(0, "standing")])
    class_map = np.zeros((30, 40), np.uint8)
    class_map[5:10, 5:10] = 1
    writer.observe_masks([TaskResult("semseg", WorkItem(frame("cam1", 0)),
                                     SegOutput(class_map, (640, 480)))])
    assert not (tmp_path / "cam1.mask.png").exists(), "masks go with the next snapshot"
    tracks = FrameTracks("cam1", (TrackedPerson(3, "cam1-3", (1.0, 2.0, 3.0, 4.0), ()),),
                         frozenset({3}))
    writer.observe_tracks([TaskResult(TRACKS_FEED, WorkItem(frame("cam1", 1)), tracks)])
    writer.observe_tracks([TaskResult(TRACKS_FEED, WorkItem(frame("cam1", 2)), tracks)])
    doc = json.loads((tmp_path / "cam1.json").read_text(encoding="utf-8"))
    assert doc["frame_seq"] == 2 and writer.written == 1, "rate-limited per camera"
    assert doc["people"] == [{"track_id": 3, "id": "cam1-3", "box": [1.0, 2.0, 3.0, 4.0],
                              "zones": [], "pose": "standing"}]
    assert (tmp_path / "cam1.jpg").stat().st_size > 0
    mask = cv2.imread(str(tmp_path / "cam1.mask.png"), cv2.IMREAD_GRAYSCALE)
    assert mask is not None and int(mask.sum()) == 25 * 255
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left"


def test_home_assistant_gets_a_sensor_per_zone_and_pose_class() -> None:
    discovery = HaDiscovery(Topics("ea", "dev1"), "dev1", "1.0", [CAMERA], tracking=True,
                            pose_classes=["sitting", "getting_up"])
    configs = {m.topic: json.loads(m.payload) for m in discovery.messages()}
    sitting = configs["homeassistant/sensor/dev1/cam1_left_pose_sitting/config"]
    assert sitting["state_topic"] == "ea/dev1/cam1/zone/left/pose"
    assert sitting["value_template"] == "{{ value_json.counts.get('sitting', 0) }}"
    assert configs["homeassistant/sensor/dev1/cam1_left_pose_getting_up/config"]["name"] == (
        "cam1 left getting up")
    assert "homeassistant/sensor/dev1/cam1_left_pose_unknown/config" in configs
    plain = HaDiscovery(Topics("ea", "dev1"), "dev1", "1.0", [CAMERA], tracking=True)
    assert not any("_pose_" in m.topic for m in plain.messages())


def test_planned_mode_covers_pose_without_a_latency_seed() -> None:
    profile, table = load_profiles()["orin_nx"], load_latency_tables()["orin_nx"]
    tasks = tuple(default_tasks(profile.semseg_variant, pose=True))
    assert tasks[-1].name == "pose" and tasks[-1].per_detection
    result = plan_device(profile, table, "MAXN", Workload(tasks, 1, 3.0))
    pose = result.tasks.get("pose")
    assert pose is not None and pose.probe, "no BodyPose3DNet seed: probed until measured"
    without = plan_device(profile, table, "MAXN",
                          Workload(tuple(default_tasks(profile.semseg_variant)), 1, 3.0))
    assert result.tasks["peoplenet"].rate_hz == without.tasks["peoplenet"].rate_hz


def test_the_demo_picture_draws_received_skeletons_and_pose_classes(tmp_path: Path) -> None:
    from edge_agent.capture.sample_footage import write_synthetic_clip
    from edge_agent.demo.render import render_last_mask
    from edge_agent.events.rle import encode_rle

    clip = write_synthetic_clip(tmp_path / "clip.avi", 320, 240, 5, 1.0)
    rle = encode_rle(np.zeros((24, 32), np.uint8))
    event = {"frame_seq": 1, "frame_width": 320, "frame_height": 240, "seq": 1,
             "mask": {"size": list(rle.size), "counts": list(rle.counts)}}
    track = {"box": [100, 50, 160, 200], "track_id": 4, "frame_seq": 1}
    points = [[130.0 + (j % 5) * 4, 60.0 + j * 4, 0.9] for j in range(34)]
    plain = cv2.imread(str(render_last_mask(clip, event, tmp_path / "a.png", [track])))
    posed = cv2.imread(str(render_last_mask(
        clip, event, tmp_path / "b.png",
        [{**track, "pose": "sitting", "keypoints": points}])))
    changed = np.argwhere((plain != posed).any(axis=2))
    assert len(changed) > 100, "skeleton and class drawn"
    assert changed[:, 0].max() > 150, "the skeleton reaches below the label row"
