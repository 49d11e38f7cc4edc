"""Where a task's results go: into downstream tasks' inboxes and to the event sinks.

Routing is data, not code: the router is told which tasks consume which (from the graph) and
which results the sinks want; executors call `route()` after each batch. Inboxes are bounded
(`TaskInbox`): a crop task that falls behind drops its oldest inputs and counts them rather
than queueing without end. The hand-off to the sinks blocks (bounded queue): when events
cannot be built fast enough the executors wait, and capture drops frames at the slots.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from typing import Deque, Dict, List, Optional, Sequence, Set

from edge_agent.runtime.task import TaskResult, WorkItem

logger = logging.getLogger(__name__)

_HANDOFF_TIMEOUT_S = 0.1
SINK_QUEUE_SIZE = 8


class TaskInbox:
    """Bounded FIFO of a crop task's pending inputs; the oldest are dropped when full."""

    def __init__(self, capacity: int, wake: threading.Event) -> None:
        self._items: Deque[WorkItem] = deque()
        self._capacity = max(1, capacity)
        self._lock = threading.Lock()
        self._wake = wake
        self.dropped = 0

    def offer(self, items: Sequence[WorkItem]) -> None:
        """Append inputs (dropping the oldest beyond capacity) and wake the executor."""
        with self._lock:
            for item in items:
                if len(self._items) >= self._capacity:
                    self._items.popleft()
                    self.dropped += 1
                self._items.append(item)
        self._wake.set()

    def take(self, limit: int) -> List[WorkItem]:
        """Up to `limit` oldest inputs."""
        with self._lock:
            count = min(limit, len(self._items))
            return [self._items.popleft() for _ in range(count)]

    def oldest_monotonic_s(self) -> Optional[float]:
        """Capture time of the oldest pending input; None when empty."""
        with self._lock:
            return self._items[0].frame.monotonic_ts if self._items else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class ResultRouter:
    """Fans results out to downstream inboxes and the sink queue."""

    def __init__(self, sink_queue_size: int = SINK_QUEUE_SIZE) -> None:
        self._lock = threading.Lock()
        self._inboxes: Dict[str, Dict[str, TaskInbox]] = {}  # upstream -> consumer -> inbox
        self._sink_tasks: Set[str] = set()
        self.sink_queue: "queue.Queue[List[TaskResult]]" = queue.Queue(maxsize=sink_queue_size)
        self.lost = 0

    def connect(self, upstream: str, consumer: str, inbox: TaskInbox) -> None:
        """Send `upstream`'s results to `consumer`'s inbox."""
        with self._lock:
            self._inboxes.setdefault(upstream, {})[consumer] = inbox

    def disconnect(self, consumer: str) -> None:
        """Stop feeding `consumer` (removed by a reload)."""
        with self._lock:
            for consumers in self._inboxes.values():
                consumers.pop(consumer, None)

    def set_sink_tasks(self, names: Set[str]) -> None:
        """Which tasks' results the event sinks consume."""
        with self._lock:
            self._sink_tasks = set(names)

    def route(self, task: str, results: List[TaskResult], stop: threading.Event) -> bool:
        """Hand results on; False when the sinks did not drain before `stop`."""
        with self._lock:
            consumers = list(self._inboxes.get(task, {}).values())
            to_sinks = task in self._sink_tasks
        if consumers:
            items = [WorkItem(result.frame, result.value) for result in results]
            for inbox in consumers:
                inbox.offer(items)
        if not to_sinks or not results:
            return True
        while True:
            try:
                self.sink_queue.put(results, timeout=_HANDOFF_TIMEOUT_S)
                return True
            except queue.Full:
                if stop.is_set():
                    self.lost += len(results)
                    logger.warning("event thread is not draining; %d %s results lost",
                                   len(results), task)
                    return False
