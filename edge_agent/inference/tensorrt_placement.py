"""How many layers of a built engine run on the DLA, read from TensorRT's build log.

TensorRT does not refuse a DLA build it cannot honour: with GPU fallback on it quietly puts
every layer on the GPU (for instance when a DLA profile has min != max, see "DLA layer
restrictions"), so the only proof that the DLA is used is TensorRT's own report. At INFO level
the builder prints a placement summary after building; 8.x and later write

    ---------- Layers Running on DLA ----------
    [DlaLayer] {ForeignNode[conv1...relu5]}
    ---------- Layers Running on GPU ----------
    [GpuLayer] CONVOLUTION: head

and TensorRT 7 wrote `--------------- Layers running on DLA:` followed by one line of
`{a,b}, {c}` groups (both forms are quoted in NVIDIA/TensorRT issue 3143 and
jkjung-avt/tensorrt_demos issue 200). A DLA "layer" here is one DLA subgraph as TensorRT lists
it (a ForeignNode fuses many ONNX nodes). The engine inspector does not name the device of a
DLA subgraph in 8.5, so the log is the source on every version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, Optional

_HEADER = re.compile(r"-{3,}\s*layers running on (dla|gpu)\s*(:|-{3,})", re.IGNORECASE)
_TAGGED = re.compile(r"\[(Dla|Gpu)Layer\]", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(?:(?:\[[^\]]*\]|[A-Z]+):?\s*)*")


@dataclass(frozen=True)
class LayerPlacement:
    """Counts from one build log; `reported` is False when the log had no summary."""

    dla_layers: int
    gpu_layers: int
    reported: bool


def parse_placement(lines: Iterable[str]) -> LayerPlacement:
    """Count DLA and GPU layers in a build log (INFO messages, any prefix)."""
    counts = {"dla": 0, "gpu": 0}
    section: Optional[str] = None
    list_line_due = False  # TensorRT 7 style: the next message is the whole list
    reported = False
    for raw in lines:
        header = _HEADER.search(raw)
        if header:
            section = header.group(1).lower()
            list_line_due = header.group(2) == ":"
            reported = True
            continue
        tagged = _TAGGED.search(raw)
        if section is not None and tagged:
            counts[tagged.group(1).lower()] += 1
            continue
        if section is None or not list_line_due:
            continue
        text = _PREFIX.sub("", raw, count=1).strip()
        if not text:
            continue
        if section == "dla":
            counts["dla"] += text.count("{")
        else:
            counts["gpu"] += len([part for part in text.split(",") if part.strip()])
        list_line_due = False
    return LayerPlacement(counts["dla"], counts["gpu"], reported)


@dataclass(frozen=True)
class BuiltPlan:
    """A serialized engine and where its layers run (from the build log)."""

    plan: bytes
    placement: LayerPlacement = LayerPlacement(0, 0, False)

    def metadata(self) -> Dict[str, object]:
        """What the engine cache header records about the build ('dla_layers' etc.)."""
        if not self.placement.reported:
            return {"dla_layers": None, "gpu_layers": None}
        return {"dla_layers": self.placement.dla_layers,
                "gpu_layers": self.placement.gpu_layers}
