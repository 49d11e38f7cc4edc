"""The event sinks of the enabled tasks: which builder turns which task's results into messages.

Why apart from the daemon: the wiring is the same at start-up for every model family, and the
small closures around each sink (snapshots, the tracks feed back into the runtime, the state
saver's offers) are easier to read next to each other than inside the agent's lifecycle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import List, Optional, Sequence, Set

from edge_agent.analytics.mask_occupancy import MaskOccupancy
from edge_agent.analytics.state import StateStore
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.events.sequence import SequenceCounter
from edge_agent.events.topics import Topics
from edge_agent.pipeline.assembly import POSE_SINK_STAGE, TRACKER_STAGE
from edge_agent.pipeline.event_worker import EventWorker
from edge_agent.pipeline.mask_events import MaskEventBuilder
from edge_agent.pipeline.mask_sink import MaskSink
from edge_agent.pipeline.people_tasks import PEOPLENET_TASK, REID_TASK
from edge_agent.pipeline.pose_sink import PoseSink
from edge_agent.pipeline.pose_task import POSE_TASK, PoseTask
from edge_agent.pipeline.semseg_task import SEMSEG_TASK
from edge_agent.pipeline.snapshots import SnapshotWriter
from edge_agent.pipeline.state_saver import StateSaver
from edge_agent.pipeline.track_feed import TRACKS_FEED
from edge_agent.pipeline.tracking_sink import TrackingSink
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.task import Task, TaskResult, WorkItem
from edge_agent.runtime.task_runtime import TaskRuntime
from edge_agent.settings import AgentSettings, CameraSettings


@dataclass(frozen=True)
class SinkContext:
    """What the sinks are built from (the agent's shared parts)."""

    events: EventWorker
    runtime: TaskRuntime
    snapshots: Optional[SnapshotWriter]
    topics: Topics
    device_id: str
    sequence: SequenceCounter
    timings: StageTimings


@dataclass
class Sinks:
    """The sinks built for the enabled tasks (None where the task is off)."""

    mask: Optional[MaskSink] = None
    tracking: Optional[TrackingSink] = None
    saver: Optional[StateSaver] = None
    pose: Optional[PoseSink] = None


def install_sinks(ctx: SinkContext, settings: AgentSettings, tasks: List[Task],
                  cameras: List[CameraSettings]) -> Sinks:
    """One sink per result-producing task, registered with the event worker."""
    out = Sinks()
    by_name = {task.name: task for task in tasks}
    qos = settings.mqtt.qos
    semseg = by_name.get(SEMSEG_TASK)
    if semseg is not None:
        builder = MaskEventBuilder(ctx.device_id, cameras, settings.models.semseg,
                                   ctx.sequence)
        out.mask = MaskSink(builder, ctx.topics, qos, semseg.model, semseg.standin,
                                   MaskOccupancy(ctx.topics), ctx.timings)
        mask_handle, snapshots = out.mask.handle, ctx.snapshots

        def handle_masks(results: Sequence[TaskResult]) -> List[OutgoingMessage]:
            if snapshots is not None:
                snapshots.observe_masks(results)
            return mask_handle(results)

        ctx.events.set_sink(SEMSEG_TASK, handle_masks)
    people = by_name.get(REID_TASK) or by_name.get(PEOPLENET_TASK)
    if people is not None:
        cfg = settings.models.tracking
        store = StateStore(cfg.state_dir)
        out.saver = StateSaver(store)
        sink = TrackingSink(cfg, ctx.topics, ctx.device_id, ctx.sequence, qos,
                            people.standin, saved=store.load(), feed_tracks=True)
        sink.set_cameras(cameras)
        out.tracking = sink
        saver = out.saver
        last_offer = [time.monotonic()]
        runtime, snapshots = ctx.runtime, ctx.snapshots

        def handle(results: Sequence[TaskResult]) -> List[OutgoingMessage]:
            messages = sink.handle([r.value for r in results])
            # Each frame's confirmed tracks go back into the runtime as the `tracks`
            # feed (pose's upstream); nobody consumes it without pose: a no-op then.
            fed = [TaskResult(TRACKS_FEED, WorkItem(frame), tracks)
                   for frame, tracks in sink.take_track_lists()]
            runtime.feed(TRACKS_FEED, fed)
            if snapshots is not None:
                snapshots.observe_tracks(fed)
            now_s = time.monotonic()
            if now_s - last_offer[0] >= saver.interval_s:
                saver.offer(sink.snapshot())  # written by the saver's own thread
                last_offer[0] = now_s
            return messages

        ctx.events.set_sink(people.name, handle, TRACKER_STAGE)
    pose = by_name.get(POSE_TASK)
    if isinstance(pose, PoseTask):
        engine = pose.engine
        pose_sink = PoseSink(ctx.topics, ctx.device_id, ctx.sequence, qos,
                             pose.standin, engine.labels, engine.settings.keypoint_messages,
                             cameras)
        out.pose = pose_sink
        snapshots = ctx.snapshots

        def handle_poses(results: Sequence[TaskResult]) -> List[OutgoingMessage]:
            if snapshots is not None:
                snapshots.observe_poses(results)
            return pose_sink.handle(results)

        ctx.events.set_sink(POSE_TASK, handle_poses, POSE_SINK_STAGE)
    return out


def sink_tasks(tasks: List[Task]) -> Set[str]:
    """Tasks whose results the event sinks consume (ReID's, or PeopleNet's without ReID)."""
    names = {task.name for task in tasks}
    sinks = {SEMSEG_TASK, POSE_TASK} & names
    sinks.add(REID_TASK if REID_TASK in names else PEOPLENET_TASK)
    return sinks & names
