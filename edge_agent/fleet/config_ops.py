"""Pure edits of a configuration (plain JSON data): merge, camera add/update/remove, zones,
lines, and the revision that names a configuration.

Pure so the same edit gives the same result on the device, in the simulator and in tests; the
result is validated by the target when applied, which names the bad field.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Dict, List

from edge_agent.fleet.errors import CommandFailed


def revision(config: Dict[str, Any]) -> str:
    """16 hex digits of the sha256 of the canonical JSON: equal configs, equal revisions."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def merge(base: Dict[str, Any], patch: Dict[str, Any]) -> Dict[str, Any]:
    """Deep merge of mappings; lists and scalars in ``patch`` replace."""
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _cameras(config: Dict[str, Any]) -> List[Dict[str, Any]]:
    cameras = config.get("cameras", [])
    return [dict(camera) for camera in cameras] if isinstance(cameras, list) else []


def _index(cameras: List[Dict[str, Any]], camera_id: str) -> int:
    for index, camera in enumerate(cameras):
        if camera.get("id") == camera_id:
            return index
    known = ", ".join(str(c.get("id")) for c in cameras) or "none"
    raise CommandFailed(
        "invalid_args", f"args.camera_id: no camera {camera_id!r} (known: {known})"
    )


def upsert_camera(config: Dict[str, Any], camera: Dict[str, Any], add: bool) -> Dict[str, Any]:
    """Add (``add``) or replace a camera, matched by its ``id``."""
    camera_id = camera.get("id")
    if not isinstance(camera_id, str) or not camera_id:
        raise CommandFailed("invalid_args", "args.camera.id: required (a camera id string)")
    cameras = _cameras(config)
    exists = any(c.get("id") == camera_id for c in cameras)
    if add and exists:
        raise CommandFailed(
            "invalid_args", f"args.camera.id: camera {camera_id!r} exists; use update_camera"
        )
    if add:
        cameras.append(copy.deepcopy(camera))
    else:
        cameras[_index(cameras, camera_id)] = copy.deepcopy(camera)
    return {**copy.deepcopy(config), "cameras": cameras}


def remove_camera(config: Dict[str, Any], camera_id: str) -> Dict[str, Any]:
    """Drop the camera ``camera_id``."""
    cameras = _cameras(config)
    del cameras[_index(cameras, camera_id)]
    return {**copy.deepcopy(config), "cameras": cameras}


def set_geometry(
    config: Dict[str, Any], camera_id: str, kind: str, items: List[Dict[str, Any]]
) -> Dict[str, Any]:
    """Replace the ``kind`` ('zones' or 'lines') of one camera."""
    cameras = _cameras(config)
    index = _index(cameras, camera_id)
    cameras[index] = {**cameras[index], kind: copy.deepcopy(items)}
    return {**copy.deepcopy(config), "cameras": cameras}
