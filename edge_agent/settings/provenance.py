"""Where each setting came from: a line of the TOML file or an EDGE_AGENT_* variable.

Why: a config error blamed on the file when an environment variable set the value sends the
user to edit the wrong thing (systemd drop-ins and container environments set variables the
user forgot about). Pure functions over text and mappings, so they are tested without files.

List items are addressed by index from the environment (`EDGE_AGENT_CAMERAS__0__URL`), which
pydantic-settings cannot do for lists: `list_item_overrides` turns those variables into a
patch of the file's data, and the settings' own environment source ignores them.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

PREFIX = "EDGE_AGENT_"
Loc = Tuple[Union[int, str], ...]
LIST_ITEM_VARIABLE = re.compile(r"^EDGE_AGENT_([A-Z0-9_]+?)__(\d+)__(.+)$", re.IGNORECASE)
_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def variable_for(loc: Sequence[Union[int, str]]) -> str:
    """('cameras', 0, 'url') -> 'EDGE_AGENT_CAMERAS__0__URL'."""
    return PREFIX + "__".join(str(part).upper() for part in loc)


def env_locations(environ: Mapping[str, str], list_fields: Sequence[str]) -> Dict[Loc, str]:
    """Field location -> the EDGE_AGENT_* variable that sets it (nested and list items)."""
    out: Dict[Loc, str] = {}
    for name in environ:
        if not name.upper().startswith(PREFIX):
            continue
        parts = name[len(PREFIX):].lower().split("__")
        loc: List[Union[int, str]] = []
        for part in parts:
            loc.append(int(part) if part.isdigit() else part)
        if loc and (loc[0] not in list_fields or len(loc) == 1 or isinstance(loc[1], int)):
            out[tuple(loc)] = name
    return out


def env_source(locations: Mapping[Loc, str], loc: Loc) -> Optional[str]:
    """The variable that set `loc` or an enclosing section (longest match), if any."""
    for size in range(len(loc), 0, -1):
        name = locations.get(loc[:size])
        if name is not None:
            return name
    return None


def list_item_overrides(environ: Mapping[str, str], data: Dict[str, Any],
                        list_fields: Sequence[str]) -> Dict[str, Any]:
    """A copy of `data` with EDGE_AGENT_<LIST>__<i>__<KEY>[__<SUB>] variables applied.

    Index i may address an existing item or the one after the last (a new item). Values are
    strings, as pydantic would get them from the environment (it converts them by type).
    Raises ValueError naming the variable for an index that would leave a hole.
    """
    patched = {key: (list(value) if isinstance(value, list) else value)
               for key, value in data.items()}
    for name in sorted(environ):
        match = LIST_ITEM_VARIABLE.match(name)
        if match is None or match.group(1).lower() not in list_fields:
            continue
        field, index = match.group(1).lower(), int(match.group(2))
        items = patched.setdefault(field, [])
        if not isinstance(items, list):
            raise ValueError(f"{name}: {field} is not a list in the file")
        if index > len(items):
            raise ValueError(f"{name}: index {index} skips items; {field} has {len(items)}")
        if index == len(items):
            items.append({})
        item = items[index] = dict(items[index]) if isinstance(items[index], dict) else {}
        keys = match.group(3).lower().split("__")
        target = item
        for key in keys[:-1]:
            inner = target.get(key)
            target[key] = dict(inner) if isinstance(inner, dict) else {}
            target = target[key]
        target[keys[-1]] = environ[name]
    return patched


def toml_lines(text: str) -> Dict[Loc, int]:
    """Field location -> 1-based line of its key (tables and arrays of tables understood).

    A light scan rather than a second TOML parser: enough to point at `key = value` lines,
    inline tables and multi-line arrays are located by their first line.
    """
    lines: Dict[Loc, int] = {}
    table: Loc = ()
    counters: Dict[Loc, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        array = _ARRAY_TABLE.match(line)
        plain = _TABLE.match(line) if array is None else None
        if array is not None:
            path = _with_indices(tuple(array.group(1).split(".")), counters)
            index = counters.get(path, -1) + 1
            counters[path] = index
            table = path + (index,)
            lines.setdefault(table, number)
            lines.setdefault(path, number)
        elif plain is not None:
            table = _with_indices(tuple(plain.group(1).split(".")), counters)
            lines.setdefault(table, number)
        else:
            key = _KEY.match(line)
            if key is not None:
                lines.setdefault(table + (key.group(1),), number)
    return lines


def _with_indices(path: Tuple[str, ...], counters: Dict[Loc, int]) -> Loc:
    """['cameras', 'zones'] under the 2nd camera -> ('cameras', 1, 'zones')."""
    out: List[Union[int, str]] = []
    for part in path:
        out.append(part)
        current = counters.get(tuple(out))
        if current is not None and part != path[-1]:
            out.append(current)
    return tuple(out)


def nearest_line(lines: Mapping[Loc, int], loc: Loc) -> Optional[int]:
    """Line of `loc`, else of the closest enclosing table or item that the file has."""
    for size in range(len(loc), 0, -1):
        line = lines.get(loc[:size])
        if line is not None:
            return line
    return None
