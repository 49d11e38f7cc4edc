"""The prompts a device segments for, changed at runtime (config load, fleet commands).

Adding a prompt validates it and extracts its features (cached) *before* it becomes visible, so
the SegIC task only ever reads complete prompts; the task takes a snapshot per camera at
prepare time, so an add or remove between frames never tears a frame's prompt set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Tuple

from edge_agent.errors import ConfigError
from edge_agent.segic.cache import PromptFeatures
from edge_agent.segic.features import PromptFeatureExtractor
from edge_agent.segic.prompts import SegicPrompt


@dataclass(frozen=True)
class ActivePrompt:
    """A prompt with its features, as the task uses it."""

    prompt: SegicPrompt
    features: PromptFeatures

    @property
    def prompt_id(self) -> str:
        """The prompt's id."""
        return self.prompt.prompt_id


@dataclass(frozen=True)
class PromptInfo:
    """What `list` reports about one prompt (no pixels)."""

    prompt_id: str
    description: str
    cameras: Tuple[str, ...]
    examples: int
    sizes_hw: Tuple[Tuple[int, int], ...]


class PromptStore:
    """Thread-safe set of active prompts, bounded by `max_prompts`."""

    def __init__(self, extractor: PromptFeatureExtractor, max_prompts: int) -> None:
        if max_prompts < 1:
            raise ValueError(f"max_prompts must be at least 1, got {max_prompts}")
        self._extractor = extractor
        self._max = max_prompts
        self._lock = threading.Lock()
        self._prompts: Dict[str, ActivePrompt] = {}

    def add(self, prompt: SegicPrompt, replace: bool = False) -> ActivePrompt:
        """Extract (or load cached) features, then publish the prompt to the task.

        An existing id is refused unless `replace`; the bound counts only new ids.
        """
        with self._lock:
            self._check_room(prompt.prompt_id, replace)
        active = ActivePrompt(prompt, self._extractor.features(prompt))
        with self._lock:
            # Checked again: another add may have won while the features were extracted.
            self._check_room(prompt.prompt_id, replace)
            self._prompts[prompt.prompt_id] = active
        return active

    def _check_room(self, prompt_id: str, replace: bool) -> None:
        """Refuse an existing id without `replace`, or a new id beyond the bound (lock held)."""
        if prompt_id in self._prompts:
            if not replace:
                raise ConfigError(f"prompt {prompt_id!r} already exists",
                                  "remove it first, or send it with replace set")
        elif len(self._prompts) >= self._max:
            raise ConfigError(f"prompt {prompt_id!r}: already {self._max} prompts, the "
                              "configured maximum (segic.max_prompts)",
                              "remove a prompt first or raise segic.max_prompts")

    def remove(self, prompt_id: str) -> None:
        """Forget a prompt; ConfigError listing the known ids when there is none by that id."""
        with self._lock:
            if self._prompts.pop(prompt_id, None) is not None:
                return
            known = ", ".join(sorted(self._prompts)) or "(none)"
        raise ConfigError(f"no SegIC prompt {prompt_id!r}", f"known prompts: {known}")

    def list(self) -> List[PromptInfo]:
        """Every prompt, sorted by id."""
        with self._lock:
            prompts = sorted(self._prompts.values(), key=lambda a: a.prompt_id)
        return [PromptInfo(a.prompt_id, a.prompt.description, a.prompt.cameras,
                           len(a.prompt.examples),
                           tuple((int(e.mask.shape[0]), int(e.mask.shape[1]))
                                 for e in a.prompt.examples))
                for a in prompts]

    def for_camera(self, camera_id: str) -> Tuple[ActivePrompt, ...]:
        """Snapshot of the prompts naming `camera_id`, sorted by id."""
        with self._lock:
            return tuple(sorted((a for a in self._prompts.values()
                                 if camera_id in a.prompt.cameras),
                                key=lambda a: a.prompt_id))

    def cameras(self) -> FrozenSet[str]:
        """Every camera some prompt names (the task's cameras)."""
        with self._lock:
            return frozenset(c for a in self._prompts.values() for c in a.prompt.cameras)

    def camera_prompt_pairs(self) -> int:
        """(camera, prompt) pairs: segic calls per SegIC round over every camera."""
        with self._lock:
            return sum(len(a.prompt.cameras) for a in self._prompts.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._prompts)
