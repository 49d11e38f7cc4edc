"""Executors: batching across cameras, upstream → downstream routing, deadlines, drain, graph.

The tasks here are small pure-Python tasks (the executor is the unit under test); the real
models run through the same executors in the end-to-end tests.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence

import numpy as np
import pytest

from edge_agent.capture.latest_slot import LatestFrameSlot
from edge_agent.errors import ConfigError
from edge_agent.frames import Frame
from edge_agent.runtime.graph import check_graph
from edge_agent.runtime.policy import RatePolicy
from edge_agent.runtime.stage_timings import StageTimings
from edge_agent.runtime.task import TaskResult, WorkItem
from edge_agent.runtime.task_runtime import TaskRuntime


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def frame(camera_id: str, seq: int, age_s: float = 0.0) -> Frame:
    return Frame(camera_id, seq, time.time(), time.monotonic() - age_s,
                 np.zeros((4, 4, 3), dtype=np.uint8))


class CountingTask:
    """Records each batch it runs; its result is (camera, seq) or upstream's plus its name."""

    resource = "cpu"
    standin = False

    def __init__(self, name: str, cameras: Iterable[str], max_batch: int = 8,
                 upstream: Optional[str] = None, gate: Optional[threading.Event] = None) -> None:
        self.name = name
        self.model = f"model-{name}"
        self.cameras: FrozenSet[str] = frozenset(cameras)
        self.max_batch = max_batch
        self.upstream = upstream
        self.batches: List[List[str]] = []
        self._gate = gate
        self.entered = threading.Event()

    def prepare(self, items: Sequence[WorkItem]) -> Any:
        return [(item.frame.camera_id, item.frame.seq, item.upstream) for item in items]

    def run(self, data: Any) -> Any:
        self.entered.set()
        if self._gate is not None:
            self._gate.wait(5.0)
        self.batches.append([camera for camera, _, _ in data])
        return data

    def decode(self, items: Sequence[WorkItem], raw: Any) -> List[Any]:
        return [(self.name, camera, seq, up) for camera, seq, up in raw]

    def backend_label(self) -> str:
        return "test"


class Collector:
    """Drains the router's sink queue as the event worker would."""

    def __init__(self, runtime: TaskRuntime) -> None:
        self.results: List[TaskResult] = []
        self._queue = runtime.router.sink_queue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.results.extend(self._queue.get(timeout=0.05))
            except Exception:  # noqa: BLE001 - queue.Empty
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)


def make_runtime(rates: Dict[str, float]) -> TaskRuntime:
    return TaskRuntime(RatePolicy(rates), StageTimings())


def test_one_batch_holds_frames_of_every_due_camera() -> None:
    slots = {cid: LatestFrameSlot() for cid in ("a", "b", "c")}
    for index, slot in enumerate(slots.values()):
        slot.put(frame("abc"[index], 1))
    gate = threading.Event()
    task = CountingTask("seg", slots, max_batch=3, gate=gate)
    runtime = make_runtime({"seg": 0.0})
    runtime.apply([task], slots, {"seg"})
    collector = Collector(runtime)
    runtime.start()
    try:
        gate.set()
        assert wait_until(lambda: len(collector.results) >= 3)
        assert sorted(task.batches[0]) == ["a", "b", "c"]
    finally:
        runtime.stop(2.0)
        collector.close()


def test_downstream_task_gets_upstream_results_of_the_same_frame() -> None:
    slots = {"a": LatestFrameSlot()}
    det = CountingTask("det", ["a"])
    emb = CountingTask("emb", ["a"], upstream="det")
    runtime = make_runtime({"det": 0.0, "emb": 0.0})
    runtime.apply([emb, det], slots, {"emb"})  # any order: the graph sorts upstream first
    collector = Collector(runtime)
    runtime.start()
    try:
        slots["a"].put(frame("a", 7))
        assert wait_until(lambda: bool(collector.results))
        result = collector.results[0]
        assert result.task == "emb"
        assert result.value == ("emb", "a", 7, ("det", "a", 7, None))
        assert [r.task for r in collector.results] == ["emb"] * len(collector.results)
    finally:
        runtime.stop(2.0)
        collector.close()


def test_frames_older_than_the_deadline_are_dropped_and_counted() -> None:
    class DeadlinePolicy(RatePolicy):
        def deadline_s(self, task: str) -> float:
            return 0.5

    slots = {"a": LatestFrameSlot()}
    task = CountingTask("seg", ["a"])
    runtime = TaskRuntime(DeadlinePolicy({"seg": 0.0}), StageTimings())
    runtime.apply([task], slots, {"seg"})
    collector = Collector(runtime)
    runtime.start()
    try:
        slots["a"].put(frame("a", 1, age_s=2.0))
        assert wait_until(lambda: runtime.expired().get("seg") == 1)
        slots["a"].put(frame("a", 2))
        assert wait_until(lambda: bool(collector.results))
        assert [r.value[2] for r in collector.results] == [2]
    finally:
        runtime.stop(2.0)
        collector.close()


def test_stop_finishes_the_prepared_batch() -> None:
    slots = {"a": LatestFrameSlot()}
    gate = threading.Event()
    task = CountingTask("seg", ["a"], gate=gate)
    runtime = make_runtime({"seg": 0.0})
    runtime.apply([task], slots, {"seg"})
    collector = Collector(runtime)
    runtime.start()
    try:
        slots["a"].put(frame("a", 1))
        assert task.entered.wait(5.0)  # the batch is inside the model call
        releaser = threading.Timer(0.2, gate.set)
        releaser.start()
        runtime.stop(3.0)  # waits for the run in progress to finish and route its result
        releaser.join()
        assert wait_until(lambda: len(collector.results) == 1)
    finally:
        collector.close()


def test_a_failing_batch_is_counted_and_the_executor_goes_on() -> None:
    class Flaky(CountingTask):
        def run(self, data: Any) -> Any:
            if data[0][1] == 1:
                raise ValueError("bad frame")
            return super().run(data)

    slots = {"a": LatestFrameSlot()}
    task = Flaky("seg", ["a"])
    runtime = make_runtime({"seg": 0.0})
    runtime.apply([task], slots, {"seg"})
    collector = Collector(runtime)
    runtime.start()
    try:
        slots["a"].put(frame("a", 1))
        counters = runtime.executors["cpu"].counters
        assert wait_until(lambda: counters.failures.get("seg") == 1)
        slots["a"].put(frame("a", 2))
        assert wait_until(lambda: bool(collector.results))
        assert "bad frame" in counters.last_error["seg"]
    finally:
        runtime.stop(2.0)
        collector.close()


def test_rate_policy_spaces_runs_per_camera() -> None:
    policy = RatePolicy({"seg": 2.0})
    assert policy.due("seg", "a", 10.0)
    policy.mark_run("seg", "a", 10.0)
    assert not policy.due("seg", "a", 10.2) and policy.due("seg", "b", 10.2)
    assert math.isclose(policy.wait_s("seg", "a", 10.2), 0.3)
    assert policy.deadline_s("seg") == math.inf


def test_a_task_whose_upstream_is_disabled_is_refused_with_both_names() -> None:
    with pytest.raises(ConfigError) as err:
        check_graph([CountingTask("reid", ["a"], upstream="peoplenet")])
    assert "reid" in err.value.problem and "peoplenet" in err.value.problem
    assert "enable 'peoplenet' or disable 'reid'" in err.value.fix


def test_a_dependency_cycle_is_refused() -> None:
    with pytest.raises(ConfigError, match="cycle"):
        check_graph([CountingTask("x", [], upstream="y"), CountingTask("y", [], upstream="x")])


def test_reapplying_a_task_list_keeps_the_executor_running() -> None:
    slots = {"a": LatestFrameSlot(), "b": LatestFrameSlot()}
    runtime = make_runtime({"seg": 0.0})
    runtime.apply([CountingTask("seg", ["a"])], slots, {"seg"})
    collector = Collector(runtime)
    runtime.start()
    try:
        runner = runtime.executors["cpu"].runner
        runtime.apply([CountingTask("seg", ["a", "b"])], slots, {"seg"})
        slots["b"].put(frame("b", 1))
        assert wait_until(lambda: any(r.frame.camera_id == "b" for r in collector.results))
        assert runtime.executors["cpu"].runner is runner and runner.alive()
    finally:
        runtime.stop(2.0)
        collector.close()


def test_dla_layer_counts_of_dla_engines_reach_telemetry() -> None:
    class OnDla(CountingTask):
        def dla_layers(self) -> Optional[int]:
            return 41

    runtime = make_runtime({"det": 0.0, "seg": 0.0})
    runtime.apply([OnDla("det", ["a"]), CountingTask("seg", ["a"])], {"a": LatestFrameSlot()},
                  set())
    assert runtime.dla_layers() == {"model-det": 41}
