"""What an executor runs next: the most urgent due batch among the tasks placed on it.

Replaces the per-branch "newest frame of every due camera" loops with one rule for every
task on a resource:
1. crop tasks with pending inputs come first, oldest input first: they finish frames already
   in flight, so their latency stays bounded; an input whose camera the policy says is not
   due for the crop task (a planned ReID rate below PeopleNet's) is passed on without running
   (`Pick.skipped`; the task's `skip` says what its consumers get instead);
2. then source tasks, the one served least recently first (round robin), each taking the
   newest frame of every camera its policy says is due, up to its batch limit — so one batch
   holds frames of several cameras;
3. inputs older than the policy's deadline for the task are dropped and counted, never run.
When nothing is ready it blocks briefly on the camera due soonest (or until a crop input
arrives) instead of spinning.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from typing_extensions import Protocol

from edge_agent.frames import Frame
from edge_agent.runtime.policy import SchedulingPolicy
from edge_agent.runtime.router import TaskInbox
from edge_agent.runtime.task import Task, WorkItem

IDLE_WAIT_S = 0.05
_CROP_IDLE_WAIT_S = 0.01
_CLOSED_SLOT_PAUSE_S = 0.01


class FrameSlot(Protocol):
    """A camera's latest-frame slot as one consumer reads it (capture.latest_slot.SlotReader)."""

    def take(self, timeout_s: float) -> Optional[Frame]:
        """Newest frame not yet taken, or None after timeout_s."""
        ...


@dataclass(frozen=True)
class Pick:
    """The next batch of `task`, plus crop inputs passed on without running."""

    task: Task
    items: List[WorkItem]
    skipped: List[WorkItem] = field(default_factory=list)


class DueWork:
    """Batch selection for one executor; `tasks`, `readers` and `inboxes` change on reload."""

    def __init__(self, policy: SchedulingPolicy, wake: threading.Event) -> None:
        self._policy = policy
        self._wake = wake
        self._lock = threading.Lock()
        self._tasks: Dict[str, Task] = {}
        self._readers: Dict[str, Dict[str, FrameSlot]] = {}
        self._inboxes: Dict[str, TaskInbox] = {}
        self._served_s: Dict[str, float] = {}
        self.expired: Dict[str, int] = {}

    def configure(self, tasks: Mapping[str, Task], readers: Mapping[str, Mapping[str, FrameSlot]],
                  inboxes: Mapping[str, TaskInbox]) -> None:
        """Swap the task set (atomically for the selecting thread)."""
        with self._lock:
            self._tasks = dict(tasks)
            self._readers = {name: dict(cams) for name, cams in readers.items()}
            self._inboxes = dict(inboxes)

    def next_batch(self, stop: threading.Event) -> Optional[Pick]:
        """The next batch to prepare, or None after a short wait."""
        with self._lock:
            tasks, readers, inboxes = self._tasks, self._readers, self._inboxes
        if not tasks:
            stop.wait(IDLE_WAIT_S)
            return None
        for task in self._crop_order(tasks, inboxes):
            items = self._fresh(task, inboxes[task.name].take(task.max_batch))
            if items:
                return self._gate_crops(task, items)
        for task in sorted((t for t in tasks.values() if t.upstream is None),
                           key=lambda t: self._served_s.get(t.name, 0.0)):
            frames = self._due_frames(task, readers.get(task.name, {}))
            if frames:
                return self._mark(task, frames)
        return self._wait_for_one(tasks, readers, bool(inboxes), stop)

    def _crop_order(self, tasks: Mapping[str, Task],
                    inboxes: Mapping[str, TaskInbox]) -> List[Task]:
        pending = []
        for name, inbox in inboxes.items():
            oldest = inbox.oldest_monotonic_s()
            if oldest is not None and name in tasks:
                pending.append((oldest, tasks[name]))
        return [task for _, task in sorted(pending, key=lambda pair: pair[0])]

    def _gate_crops(self, task: Task, items: List[WorkItem]) -> Pick:
        now_s = time.monotonic()
        due: List[WorkItem] = []
        skipped: List[WorkItem] = []
        for item in items:
            camera_id = item.frame.camera_id
            if self._policy.due(task.name, camera_id, now_s):
                self._policy.mark_run(task.name, camera_id, now_s)
                due.append(item)
            else:
                skipped.append(item)
        if due:
            self._served_s[task.name] = now_s
        return Pick(task, due, skipped)

    def _fresh(self, task: Task, items: List[WorkItem]) -> List[WorkItem]:
        deadline_s = self._policy.deadline_s(task.name)
        now_s = time.monotonic()
        fresh = [item for item in items if now_s - item.frame.monotonic_ts <= deadline_s]
        if len(fresh) != len(items):
            self.expired[task.name] = self.expired.get(task.name, 0) + len(items) - len(fresh)
        return fresh

    def _due_frames(self, task: Task, readers: Mapping[str, FrameSlot]) -> List[Frame]:
        now_s = time.monotonic()
        frames: List[Frame] = []
        for camera_id, reader in readers.items():
            if len(frames) >= task.max_batch:
                break
            if self._policy.due(task.name, camera_id, now_s):
                frame = reader.take(0.0)
                if frame is not None:
                    frames.append(frame)
        return [item.frame for item in self._fresh(task, [WorkItem(f) for f in frames])]

    def _mark(self, task: Task, frames: List[Frame]) -> Pick:
        now_s = time.monotonic()
        self._served_s[task.name] = now_s
        for frame in frames:
            self._policy.mark_run(task.name, frame.camera_id, now_s)
        return Pick(task, [WorkItem(frame) for frame in frames])

    def _wait_for_one(self, tasks: Mapping[str, Task],
                      readers: Mapping[str, Mapping[str, FrameSlot]], has_crop_tasks: bool,
                      stop: threading.Event) -> Optional[Pick]:
        now_s = time.monotonic()
        idle_s = _CROP_IDLE_WAIT_S if has_crop_tasks else IDLE_WAIT_S
        best: Optional[Tuple[float, Task, str]] = None
        for task in tasks.values():
            for camera_id in readers.get(task.name, {}):
                wait_s = self._policy.wait_s(task.name, camera_id, now_s)
                if best is None or wait_s < best[0]:
                    best = (wait_s, task, camera_id)
        if best is None:
            self._idle(idle_s)
            return None
        wait_s, task, camera_id = best
        if wait_s > 0:
            self._idle(min(wait_s, idle_s))
            return None
        frame = readers[task.name][camera_id].take(idle_s)
        if frame is None:
            stop.wait(_CLOSED_SLOT_PAUSE_S)  # a closed slot answers at once: do not spin on it
            return None
        fresh = self._fresh(task, [WorkItem(frame)])
        return self._mark(task, [frame]) if fresh else None

    def _idle(self, wait_s: float) -> None:
        """Wait for time to pass, a crop input to arrive, or a stop (which sets the wake)."""
        if self._wake.wait(wait_s):
            self._wake.clear()
