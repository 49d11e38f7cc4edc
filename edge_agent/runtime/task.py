"""A task: one unit of model work the executors run, described by what it consumes and emits.

Every model the agent runs is a task: it consumes camera frames (a *source* task, such as
segmentation or PeopleNet) or the results of an upstream task for the same frame (a *crop*
task, such as ReID on PeopleNet's boxes, or pose on tracks), and turns a batch of such inputs
into one typed result per input, in three steps with different homes:

- `prepare` (CPU, on the executor's preparing thread, overlapping the previous run),
- `run` (the accelerator call, on the thread that owns the resource),
- `decode` (CPU, right after run, on the same thread: cheap, and keeps results in order).

A crop task may also offer `skip(item)`: what its consumers get for an input the policy says
is not due (ReID passes the detections on without embeddings). A task never publishes: its
results go to the router (runtime/router.py), which feeds
downstream tasks and the event sinks, where pure builders turn them into messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, FrozenSet, List, Optional, Sequence

from typing_extensions import Protocol

from edge_agent.frames import Frame

RESOURCES = ("gpu", "dla0", "dla1", "cpu")


@dataclass(frozen=True)
class WorkItem:
    """One input of a task: a frame, plus the upstream task's result for it (crop tasks)."""

    frame: Frame
    upstream: Any = None


@dataclass(frozen=True)
class TaskResult:
    """One decoded output of `task` for `item.frame`; run_ms is its share of the batch's run."""

    task: str
    item: WorkItem
    value: Any
    run_ms: float = 0.0

    @property
    def frame(self) -> Frame:
        """The frame the result belongs to."""
        return self.item.frame


@dataclass(frozen=True)
class PreparedBatch:
    """A task's batch, ready to run: inputs, the task's own prepared data, and its cost."""

    task: str
    items: List[WorkItem]
    data: Any
    prepare_ms: float


class Task(Protocol):
    """The protocol the executors run. Implementations live in pipeline/ (one per model)."""

    @property
    def name(self) -> str:
        """Unique task name ('semseg', 'peoplenet', 'reid', ...)."""
        ...

    @property
    def model(self) -> str:
        """Registry key of the model it borrows."""
        ...

    @property
    def resource(self) -> str:
        """Where it runs: one of RESOURCES."""
        ...

    @property
    def upstream(self) -> Optional[str]:
        """Name of the task whose results it consumes; None = camera frames."""
        ...

    @property
    def cameras(self) -> FrozenSet[str]:
        """Cameras it serves (source tasks read their frames)."""
        ...

    @property
    def max_batch(self) -> int:
        """Largest batch of inputs per run (>= 1)."""
        ...

    @property
    def standin(self) -> bool:
        """True when the model it borrows is a generated stand-in."""
        ...

    def prepare(self, items: Sequence[WorkItem]) -> Any:
        """Preprocess a batch into whatever `run` takes."""
        ...

    def run(self, data: Any) -> Any:
        """The model call(s) for a prepared batch; returns raw outputs."""
        ...

    def decode(self, items: Sequence[WorkItem], raw: Any) -> List[Any]:
        """One decoded value per item, in order."""
        ...

    def backend_label(self) -> str:
        """Backend serving the model now (inference.serving), for telemetry."""
        ...
