"""The runtime: a task list placed on executors, wired by the task graph, swappable live.

`apply(tasks, slots)` is the only way work is set up, at start and on every reload: it checks
the graph (runtime/graph.py), gives each source task its own reader on every camera slot it
serves, gives each crop task a bounded inbox fed by its upstream, tells the router which
results the event sinks want, and configures one executor per resource in use. Applying a new
list touches only what differs: executors keep running, untouched tasks keep their inboxes,
and nothing is loaded (tasks borrow engines from the model registry).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Collection, Dict, List, Mapping, Optional, Sequence, Set

from typing_extensions import Protocol

from edge_agent.runtime.due_work import FrameSlot
from edge_agent.runtime.executor import Executor
from edge_agent.runtime.graph import check_graph
from edge_agent.runtime.policy import SchedulingPolicy
from edge_agent.runtime.router import ResultRouter, TaskInbox
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.task import Task, TaskResult
from edge_agent.runtime.worker import Worker

logger = logging.getLogger(__name__)

# Pending frames per crop task, in batches: enough to absorb a burst, small enough that a
# crop task that cannot keep up drops (and counts) rather than lags.
_INBOX_BATCHES = 4


class ReadableSlot(Protocol):
    """A camera's frame slot that hands each named consumer its own reader.

    capture.latest_slot.LatestFrameSlot satisfies it; declared here so the runtime does not
    depend on capture (capture depends on the runtime's worker base).
    """

    def reader(self, name: str) -> FrameSlot: ...


class TaskRuntime:
    """Executors per resource, the router between tasks, and the current task list."""

    def __init__(self, policy: SchedulingPolicy, timings: StageTimings,
                 router: Optional[ResultRouter] = None) -> None:
        self.policy = policy
        self.timings = timings
        self.router = router or ResultRouter()
        self._executors: Dict[str, Executor] = {}
        self._inboxes: Dict[str, TaskInbox] = {}
        self._tasks: List[Task] = []
        self._running = False
        self._never = threading.Event()  # feeds never reach the sink queue: nothing waits

    @property
    def tasks(self) -> List[Task]:
        """The applied tasks, upstream first."""
        return list(self._tasks)

    @property
    def executors(self) -> Dict[str, Executor]:
        """Resource -> executor."""
        return dict(self._executors)

    def workers(self) -> List[Worker]:
        """Every executor thread, for the supervisor."""
        return [worker for ex in self._executors.values() for worker in ex.workers]

    def apply(self, tasks: Sequence[Task], slots: Mapping[str, ReadableSlot],
              sink_tasks: Set[str], feeds: Collection[str] = ()) -> List[Task]:
        """Place `tasks` (ConfigError, changing nothing, when the graph is wrong).

        `feeds`: upstreams produced outside the executors; their producer hands results in
        with `feed()`, and the crop tasks consuming them get inboxes like any other."""
        ordered = check_graph(tasks, feeds)
        names = {task.name for task in ordered}
        for name in [n for n in self._inboxes if n not in names]:
            self.router.disconnect(name)
            del self._inboxes[name]
        placed: Dict[str, Dict[str, Task]] = {}
        readers: Dict[str, Dict[str, Dict[str, FrameSlot]]] = {}
        inboxes: Dict[str, Dict[str, TaskInbox]] = {}
        for task in ordered:
            executor = self._executor(task.resource)
            placed.setdefault(task.resource, {})[task.name] = task
            if task.upstream is None:
                readers.setdefault(task.resource, {})[task.name] = {
                    cid: slots[cid].reader(task.name) for cid in sorted(task.cameras)
                    if cid in slots}
            else:
                inbox = self._inboxes.get(task.name)
                if inbox is None:
                    inbox = TaskInbox(_INBOX_BATCHES * task.max_batch, executor.wake)
                    self._inboxes[task.name] = inbox
                inboxes.setdefault(task.resource, {})[task.name] = inbox
                self.router.connect(task.upstream, task.name, inbox)
        self.router.set_sink_tasks(sink_tasks)
        for resource, executor in self._executors.items():
            executor.configure(placed.get(resource, {}), readers.get(resource, {}),
                               inboxes.get(resource, {}))
        self._tasks = ordered
        return ordered

    def feed(self, name: str, results: List[TaskResult]) -> None:
        """Results of feed `name` (produced outside the executors) into its consumers'
        inboxes; never blocks (inboxes drop their oldest inputs when full)."""
        self.router.route(name, results, self._never)

    def _executor(self, resource: str) -> Executor:
        executor = self._executors.get(resource)
        if executor is None:
            executor = Executor(resource, self.policy, self.router, self.timings)
            self._executors[resource] = executor
            if self._running:
                executor.start()
        return executor

    def start(self) -> None:
        """Start every executor."""
        self._running = True
        for executor in self._executors.values():
            executor.start()

    def stop(self, timeout_s: float) -> None:
        """Stop executors, upstream resources' work first finishing into the router."""
        deadline = time.monotonic() + timeout_s
        self._running = False
        executors = list(self._executors.values())
        for index, executor in enumerate(executors):
            share = 1.0 / max(1, len(executors) - index)
            executor.stop(max(0.0, (deadline - time.monotonic()) * share))

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no executor is inside a model call; True when all are idle."""
        deadline = time.monotonic() + timeout_s
        return all(ex.wait_idle(max(0.0, deadline - time.monotonic()))
                   for ex in self._executors.values())

    def last_processed_s(self) -> Dict[str, Dict[str, float]]:
        """Task -> camera -> monotonic time its newest input finished running."""
        out: Dict[str, Dict[str, float]] = {}
        for executor in self._executors.values():
            out.update(executor.last_processed_s())
        return out

    def expired(self) -> Dict[str, int]:
        """Inputs dropped as older than their task's deadline, per task."""
        out: Dict[str, int] = {}
        for executor in self._executors.values():
            for counts in (executor.due.expired, executor.counters.expired):
                for task, count in counts.items():
                    out[task] = out.get(task, 0) + count
        return out

    def dla_layers(self) -> Dict[str, int]:
        """Model name -> layers TensorRT put on a DLA core (models on a DLA engine only)."""
        out: Dict[str, int] = {}
        for task in self._tasks:
            probe = getattr(task, "dla_layers", None)
            value = probe() if callable(probe) else None
            if isinstance(value, int):
                out[task.model] = value
        return out

    def backends(self) -> Dict[str, str]:
        """Model name -> backend serving it now."""
        return {task.model: task.backend_label() for task in self._tasks}
