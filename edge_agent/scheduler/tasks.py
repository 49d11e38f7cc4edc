"""What the scheduler plans: tasks with rates, priorities and deadlines, and their utility.

A task runs one model per frame (semseg, peoplenet) or per detection (reid, pose: a crop model,
whose cost follows the measured number of people). Its utility is linear in the pieces a mixed
integer program can represent exactly, so the planner can be checked against one:

    utility = weight * quality * (FLOOR_SHARE + (1 - FLOOR_SHARE) * (rate - min) / (target - min))

for a task that runs (rate between its minimum and its target), 0 for a shed task. Half the
value comes from running at all (FLOOR_SHARE), the rest grows with the rate. `quality` is the
variant's accuracy relative to the best one: the PeopleSemSegNet card's "Office use-case" MIOU,
95.01 for vanilla UNet and 87 for ShuffleSeg, gives ShuffleSeg 87 / 95.01 = 0.916.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

FLOOR_SHARE = 0.5

SEMSEG_VARIANTS: Dict[str, Tuple[str, float]] = {
    # variant name → (model name, quality); MIOU from the PeopleSemSegNet card, office use-case
    "vanilla_unet": ("peoplesemsegnet_vanilla_unet", 1.0),
    "shuffleseg": ("peoplesemsegnet_shuffleseg", 87.0 / 95.01),
}


@dataclass(frozen=True)
class Variant:
    """One model that can serve a task, with its quality relative to the best variant."""

    model: str
    quality: float = 1.0


@dataclass(frozen=True)
class TaskSpec:
    """A task as the planner sees it. Rates are per camera, in Hz."""

    name: str
    variants: Tuple[Variant, ...]
    target_hz: float
    min_hz: float
    weight: float
    deadline_s: float
    per_detection: bool = False
    requires: Tuple[str, ...] = ()  # tasks whose output this one consumes (reid: peoplenet)

    def __post_init__(self) -> None:
        if not 0 < self.min_hz <= self.target_hz:
            raise ValueError(f"task {self.name}: need 0 < min_hz <= target_hz, got "
                             f"{self.min_hz}, {self.target_hz}")
        if self.weight <= 0 or self.deadline_s <= 0 or not self.variants:
            raise ValueError(f"task {self.name}: weight, deadline_s and variants are required")

    def utility(self, quality: float, rate_hz: float) -> float:
        """Utility of running at `rate_hz` with a variant of `quality` (0 when shed)."""
        if rate_hz <= 0:
            return 0.0
        span = self.target_hz - self.min_hz
        grown = 1.0 if span <= 0 else (min(rate_hz, self.target_hz) - self.min_hz) / span
        return self.weight * quality * (FLOOR_SHARE + (1 - FLOOR_SHARE) * max(0.0, grown))

    def slope(self, quality: float) -> float:
        """Utility per Hz above the minimum (0 when min == target)."""
        span = self.target_hz - self.min_hz
        return 0.0 if span <= 0 else self.weight * quality * (1 - FLOOR_SHARE) / span


@dataclass(frozen=True)
class Workload:
    """What the device serves now: tasks, cameras, and the measured people per frame."""

    tasks: Tuple[TaskSpec, ...]
    cameras: int = 1
    people_per_frame: float = 3.0
    camera_fps: float = 30.0
    extras: Dict[str, float] = field(default_factory=dict)

    def items_per_frame(self, task: TaskSpec) -> float:
        """Inputs one frame gives the task: 1, or the people count for crop models."""
        return max(0.0, self.people_per_frame) if task.per_detection else 1.0


def semseg_task(variant: str, allow_fallback: bool = True, target_hz: float = 10.0) -> TaskSpec:
    """Semantic segmentation; with `allow_fallback` vanilla UNet may become ShuffleSeg."""
    names = [variant] + ([v for v in SEMSEG_VARIANTS if v != variant] if allow_fallback else [])
    variants = tuple(Variant(*SEMSEG_VARIANTS[name]) for name in names)
    return TaskSpec("semseg", variants, target_hz=target_hz, min_hz=0.5, weight=2.0,
                    deadline_s=1.0)


def pose_task(target_hz: float = 10.0) -> TaskSpec:
    """BodyPose3DNet per confirmed person (the classifier rides along: one small call per
    track and second). Weight 0.5, the lowest: skeletons and pose classes are extras on top
    of counting and tracking, so pose is shed before ReID. 1 Hz minimum: slower, the One-Euro
    filters and the 30 Hz resampling have too little to work with (2 s gap = new sequence).
    No latency table has BodyPose3DNet yet: the planner then schedules it as a probe (at its
    minimum rate) until measurements arrive."""
    return TaskSpec("pose", (Variant("bodypose3dnet"),), target_hz=max(target_hz, 1.0),
                    min_hz=1.0, weight=0.5, deadline_s=1.0, per_detection=True,
                    requires=("peoplenet",))


def default_tasks(semseg_variant: str, tracking: bool = True,
                  allow_fallback: bool = True, pose: bool = False,
                  pose_target_hz: float = 10.0) -> List[TaskSpec]:
    """The agent's tasks: PeopleNet detections feed tracking, ReID per person, semseg masks,
    and (with `pose`, which needs tracking) skeletons per tracked person.

    Priorities: detection (weight 3) drives counting and tracking; masks (2) feed occupancy;
    ReID (1) only repairs identities after occlusion; pose (0.5) is shed first.
    """
    tasks = [semseg_task(semseg_variant, allow_fallback)]
    if tracking:
        tasks.append(TaskSpec("peoplenet", (Variant("peoplenet"),), target_hz=15.0, min_hz=2.0,
                              weight=3.0, deadline_s=1.0))
        tasks.append(TaskSpec("reid", (Variant("reidentificationnet"),), target_hz=5.0,
                              min_hz=1.0, weight=1.0, deadline_s=1.0, per_detection=True,
                              requires=("peoplenet",)))
        if pose:
            tasks.append(pose_task(pose_target_hz))
    return tasks
