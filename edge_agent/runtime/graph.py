"""The task graph: which task feeds which, checked before anything runs.

Dependencies are declared by each task (`upstream`), never wired by hand; this module checks
them (unique names, a known resource, an enabled upstream, no cycle) and orders the tasks so
upstream ones come first. A task whose upstream is disabled (ReID without PeopleNet) is a
configuration error naming both tasks, at start-up and on reload alike.

An upstream may also be a *feed*: a named stream of per-frame results produced outside the
executors (the tracker, which runs on the event worker, feeds confirmed tracks to pose).
"""

from __future__ import annotations

from typing import Collection, Dict, List, Sequence

from edge_agent.errors import ConfigError
from edge_agent.runtime.task import RESOURCES, Task


def check_graph(tasks: Sequence[Task], feeds: Collection[str] = ()) -> List[Task]:
    """The tasks in dependency order; ConfigError naming the tasks when the graph is wrong.

    `feeds` names upstreams produced outside the executors (see the module docstring)."""
    by_name: Dict[str, Task] = {}
    for task in tasks:
        if task.name in by_name:
            raise ConfigError(f"two tasks are named {task.name!r}",
                              "each model may be enabled once")
        if task.resource not in RESOURCES:
            raise ConfigError(
                f"task {task.name!r} is placed on unknown resource {task.resource!r}",
                f"use one of {', '.join(RESOURCES)} (device profile or models settings)")
        by_name[task.name] = task
    for task in tasks:
        if task.upstream is not None and task.name in feeds:
            raise ConfigError(f"task {task.name!r} has the name of a feed",
                              "rename the task")
        if (task.upstream is not None and task.upstream not in by_name
                and task.upstream not in feeds):
            raise ConfigError(
                f"task {task.name!r} needs the results of task {task.upstream!r}, which is "
                "not enabled",
                f"enable {task.upstream!r} or disable {task.name!r}")
    ordered: List[Task] = []
    placed: Dict[str, bool] = {}

    def place(task: Task, path: List[str]) -> None:
        if placed.get(task.name):
            return
        if task.name in path:
            cycle = " -> ".join(path + [task.name])
            raise ConfigError(f"tasks depend on each other in a cycle: {cycle}",
                              "a task may only consume the results of an earlier task")
        if task.upstream is not None and task.upstream in by_name:
            place(by_name[task.upstream], path + [task.name])
        placed[task.name] = True
        ordered.append(task)

    for task in tasks:
        place(task, [])
    return ordered
