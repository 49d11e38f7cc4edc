"""The inventory table: one row per device, sortable, paged, fitted to the terminal width."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence

from edge_agent.fleet.client import DeviceView

COLUMNS = ("device", "site", "state", "module", "jetpack", "power", "plan", "fps", "temp_c",
           "outbox", "version", "last_seen")
_MIN_WIDTH = {"device": 8, "site": 6, "state": 7, "module": 6, "jetpack": 7, "power": 5,
              "plan": 6, "fps": 5, "temp_c": 6, "outbox": 6, "version": 7, "last_seen": 9}
# Columns dropped first (right to left of this list) when the terminal is narrow.
_DROP_ORDER = ("jetpack", "plan", "module", "version", "power", "temp_c", "outbox", "site")


@dataclass(frozen=True)
class InventoryRow:
    """One device, flattened."""

    device: str
    site: str
    state: str
    module: str
    jetpack: str
    power: str
    plan: str
    fps: Optional[float]
    temp_c: Optional[float]
    outbox: Optional[int]
    version: str
    last_seen: float

    def as_json(self) -> Dict[str, Any]:
        """Plain JSON data."""
        return asdict(self)


def rows(views: Dict[str, DeviceView]) -> List[InventoryRow]:
    """Rows from what the client discovered."""
    result = []
    for device_id, view in views.items():
        card, status = view.card, view.status
        seen = max([t for t in (view.last_seen_s, card.ts if card else 0.0,
                                status.ts if status and status.ts else 0.0) if t] or [0.0])
        result.append(InventoryRow(
            device=device_id, site=card.site if card else "",
            state=status.state if status else "?", module=card.module if card else "",
            jetpack=card.jetpack if card else "", power=card.power_mode if card else "",
            plan=card.plan if card else "", fps=card.fps if card else None,
            temp_c=card.max_temp_c if card else None,
            outbox=card.outbox_depth if card else None,
            version=card.version if card else (status.version if status else ""),
            last_seen=seen,
        ))
    return result


def sort_rows(items: List[InventoryRow], key: str, descending: bool = False) -> List[InventoryRow]:
    """Sort by a column name (ValueError naming the valid ones otherwise); blanks last."""
    if key not in COLUMNS:
        raise ValueError(f"--sort {key!r}: choose one of {', '.join(COLUMNS)}")

    def value(row: InventoryRow) -> Any:
        item = getattr(row, key)
        return (item is None, item if item is not None else 0)

    present = [r for r in items if getattr(r, key) is not None]
    blank = [r for r in items if getattr(r, key) is None]
    return sorted(present, key=value, reverse=descending) + blank


def _cell(row: InventoryRow, column: str, now: float) -> str:
    value = getattr(row, column)
    if value is None or value == "":
        return "-"
    if column == "last_seen":
        age = max(0.0, now - float(value))
        return f"{age:.0f}s ago" if age < 120 else f"{age / 60:.0f}m ago"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def render(items: Sequence[InventoryRow], width: int, page: int = 1, page_size: int = 0,
           now: Optional[float] = None) -> List[str]:
    """Lines of one page (page_size 0 = all), columns dropped until the table fits ``width``."""
    now = time.time() if now is None else now
    total = len(items)
    if page_size > 0:
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)
        shown = list(items[(page - 1) * page_size : page * page_size])
        footer = f"page {page}/{pages}, {total} device(s)"
    else:
        shown, footer = list(items), f"{total} device(s)"
    columns = list(COLUMNS)
    cells = [[_cell(row, c, now) for c in COLUMNS] for row in shown]

    def widths(cols: List[str]) -> Dict[str, int]:
        return {c: max([len(c)] + [len(r[COLUMNS.index(c)]) for r in cells]) for c in cols}

    sizes = widths(columns)
    for drop in _DROP_ORDER:
        if sum(sizes.values()) + 2 * (len(columns) - 1) <= width:
            break
        columns.remove(drop)
        sizes = widths(columns)
    budget = width - 2 * (len(columns) - 1)
    if sum(sizes.values()) > budget:  # still too wide: shrink the device column last resort
        excess = sum(sizes.values()) - budget
        sizes["device"] = max(_MIN_WIDTH["device"], sizes["device"] - excess)
    lines = ["  ".join(c.upper().ljust(sizes[c])[: sizes[c]] for c in columns).rstrip()]
    for row in cells:
        line = "  ".join(row[COLUMNS.index(c)].ljust(sizes[c])[: sizes[c]] for c in columns)
        lines.append(line.rstrip())
    lines.append(footer)
    return lines
