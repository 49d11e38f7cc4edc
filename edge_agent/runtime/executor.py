"""One executor per compute resource: it alone runs model work there.

Two workers per resource, because the accelerator must never wait for the CPU:
`prepare-<resource>` picks the next batch (runtime/due_work.py) and preprocesses it while
`run-<resource>` runs the previous one; a one-slot queue between them bounds memory. The run
worker decodes, records timings and last-processed times, reports the measured latency to the
policy, and hands results to the router. One failing batch is logged and counted, never fatal.
`stop()` stops preparing first, lets the run worker finish what was prepared, and drains.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Dict, List, Mapping, Tuple

from edge_agent.runtime.due_work import DueWork, FrameSlot
from edge_agent.runtime.policy import SchedulingPolicy
from edge_agent.runtime.router import ResultRouter, TaskInbox
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.task import PreparedBatch, Task, TaskResult, WorkItem
from edge_agent.runtime.worker import Worker

logger = logging.getLogger(__name__)

_HANDOFF_TIMEOUT_S = 0.1
_ERROR_LOG_INTERVAL_S = 10.0


class TaskCounters:
    """Per task: batches, inputs, failures; read by telemetry and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.batches: Dict[str, int] = {}
        self.items: Dict[str, int] = {}
        self.failures: Dict[str, int] = {}
        self.last_error: Dict[str, str] = {}
        self.skips: Dict[str, int] = {}
        self.expired: Dict[str, int] = {}
        self.oldest_run_age_s: Dict[str, float] = {}  # oldest input age at a model call
        self._logged_s: Dict[str, float] = {}

    def expired_at_run(self, task: str, count: int) -> None:
        """Inputs dropped at the model call because they had grown older than the deadline."""
        with self._lock:
            self.expired[task] = self.expired.get(task, 0) + count

    def skipped(self, task: str, count: int) -> None:
        with self._lock:
            self.skips[task] = self.skips.get(task, 0) + count

    def ran(self, task: str, count: int) -> None:
        with self._lock:
            self.batches[task] = self.batches.get(task, 0) + 1
            self.items[task] = self.items.get(task, 0) + count

    def failed(self, task: str, step: str, err: Exception, cameras: List[str]) -> None:
        """Count and log (at most every 10 s per task, so a broken model cannot flood)."""
        now_s = time.monotonic()
        with self._lock:
            self.failures[task] = self.failures.get(task, 0) + 1
            self.last_error[task] = f"{step}: {err}"
            quiet = now_s - self._logged_s.get(task, -_ERROR_LOG_INTERVAL_S) < (
                _ERROR_LOG_INTERVAL_S)
            if not quiet:
                self._logged_s[task] = now_s
            total = self.failures[task]
        if not quiet:
            logger.error("task %s failed to %s for cameras %s (%d failures so far): %s",
                         task, step, cameras, total, err,
                         exc_info=logger.isEnabledFor(logging.DEBUG))


class _Preparer(Worker):
    def __init__(self, executor: Executor) -> None:
        super().__init__(f"prepare-{executor.resource}")
        self._executor = executor

    def run(self, stop: threading.Event) -> None:
        ex = self._executor
        while not stop.is_set():
            picked = ex.due.next_batch(stop)
            self.beat()
            if picked is None:
                continue
            task, items = picked.task, picked.items
            if picked.skipped:
                ex.pass_on(task, picked.skipped, stop)
            if not items:
                continue
            start = time.perf_counter()
            try:
                data = task.prepare(items)
            except Exception as err:  # noqa: BLE001 - one bad frame must not stop the resource
                ex.counters.failed(task.name, "prepare", err, [i.frame.camera_id for i in items])
                continue
            batch = PreparedBatch(task.name, items, data, (time.perf_counter() - start) * 1e3)
            ex.put_prepared((task, batch), stop)

    def on_stop_requested(self) -> None:
        self._executor.wake.set()


class _Runner(Worker):
    def __init__(self, executor: Executor) -> None:
        super().__init__(f"run-{executor.resource}")
        self._executor = executor

    def run(self, stop: threading.Event) -> None:
        ex = self._executor
        while True:
            try:
                task, batch = ex.prepared.get(timeout=_HANDOFF_TIMEOUT_S)
            except queue.Empty:
                self.beat()
                if stop.is_set():
                    return
                continue
            ex.run_batch(task, batch, stop)
            self.beat()


class Executor:
    """Runs the tasks placed on one resource."""

    def __init__(self, resource: str, policy: SchedulingPolicy, router: ResultRouter,
                 timings: StageTimings) -> None:
        self.resource = resource
        self._policy = policy
        self._router = router
        self._timings = timings
        self.wake = threading.Event()
        self.due = DueWork(policy, self.wake)
        self.prepared: "queue.Queue[Tuple[Task, PreparedBatch]]" = queue.Queue(maxsize=1)
        self.counters = TaskCounters()
        self.preparer = _Preparer(self)
        self.runner = _Runner(self)
        self._processed_lock = threading.Lock()
        self._last_processed_s: Dict[str, Dict[str, float]] = {}
        self._tasks: Dict[str, Task] = {}
        self._in_run = threading.Event()

    def busy(self) -> bool:
        """True while a batch is inside a model call (its engine must not be closed)."""
        return self._in_run.is_set()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no batch is inside a model call; True when idle."""
        deadline = time.monotonic() + timeout_s
        while self.busy() and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.busy()

    @property
    def workers(self) -> List[Worker]:
        """The two threads, for the supervisor."""
        return [self.preparer, self.runner]

    @property
    def tasks(self) -> Dict[str, Task]:
        """Tasks placed here now."""
        return dict(self._tasks)

    def configure(self, tasks: Mapping[str, Task],
                  readers: Mapping[str, Mapping[str, FrameSlot]],
                  inboxes: Mapping[str, TaskInbox]) -> None:
        """Set (or, on reload, swap) the tasks, their camera readers and crop inboxes."""
        self._tasks = dict(tasks)
        self.due.configure(tasks, readers, inboxes)

    def start(self) -> None:
        """Run worker first, so the first prepared batch finds it waiting."""
        self.runner.start()
        self.preparer.start()

    def stop(self, timeout_s: float) -> None:
        """Stop preparing, finish the prepared batch, end both threads."""
        deadline = time.monotonic() + timeout_s
        self.preparer.stop(max(0.0, (deadline - time.monotonic()) * 0.5))
        self.runner.stop(max(0.0, deadline - time.monotonic()))

    def put_prepared(self, work: Tuple[Task, PreparedBatch], stop: threading.Event) -> None:
        """Blocking hand-off to the run worker; gives up only once `stop` is set."""
        while True:
            try:
                self.prepared.put(work, timeout=_HANDOFF_TIMEOUT_S)
                return
            except queue.Full:
                if stop.is_set():
                    return

    def pass_on(self, task: Task, items: List[WorkItem], stop: threading.Event) -> None:
        """Crop inputs the policy skipped: route what the task gives instead of running
        (ReID passes the detections on without embeddings, so tracking sees every frame)."""
        skip = getattr(task, "skip", None)
        if skip is None:
            return
        self.counters.skipped(task.name, len(items))
        results = [TaskResult(task.name, item, skip(item)) for item in items]
        self._router.route(task.name, results, stop)

    def run_batch(self, task: Task, batch: PreparedBatch, stop: threading.Event) -> None:
        """Run and decode one batch, then route its results (on the run worker)."""
        items = batch.items
        cameras = [item.frame.camera_id for item in items]
        deadline_s = self._policy.deadline_s(task.name)
        now_s = time.monotonic()
        if any(now_s - item.frame.monotonic_ts > deadline_s for item in items):
            # The batch aged past its deadline while waiting (a slow previous run): running
            # it would only make the next frames late too. Dropped and counted; a crop task
            # passes its inputs on (tracking still steps on those frames).
            self.counters.expired_at_run(task.name, len(items))
            self.pass_on(task, list(items), stop)
            return
        started = time.perf_counter()
        self._in_run.set()
        try:
            raw = task.run(batch.data)
        except Exception as err:  # noqa: BLE001 - one bad batch must not stop the resource
            self.counters.failed(task.name, "run", err, cameras)
            return
        finally:
            self._in_run.clear()
        ran = time.perf_counter()
        try:
            values = task.decode(items, raw)
        except Exception as err:  # noqa: BLE001
            self.counters.failed(task.name, "decode", err, cameras)
            return
        decoded = time.perf_counter()
        run_ms, decode_ms = (ran - started) * 1e3, (decoded - ran) * 1e3
        self._timings.add_batch(task.name, batch.prepare_ms, run_ms, decode_ms, len(items))
        self._policy.observe(task.name, self.resource, len(items), run_ms)
        self.counters.ran(task.name, len(items))
        self.counters.oldest_run_age_s[task.name] = max(
            self.counters.oldest_run_age_s.get(task.name, 0.0),
            now_s - min(item.frame.monotonic_ts for item in items))
        done_s = time.monotonic()
        with self._processed_lock:
            seen = self._last_processed_s.setdefault(task.name, {})
            for camera_id in cameras:
                seen[camera_id] = done_s
        share_ms = run_ms / max(1, len(items))
        results = [TaskResult(task.name, item, value, share_ms)
                   for item, value in zip(items, values)]
        self._router.route(task.name, results, stop)

    def last_processed_s(self) -> Dict[str, Dict[str, float]]:
        """Task -> camera -> monotonic time its newest input finished running here."""
        with self._processed_lock:
            return {task: dict(cams) for task, cams in self._last_processed_s.items()}
