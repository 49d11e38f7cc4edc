"""`edge-agent snapshot --camera ID`: the latest frame with masks, boxes, track ids and
skeletons, as a PNG.

Runs in its own process beside the agent: it reads what the running agent keeps on local
disk when `models.snapshots.enabled` (pipeline/snapshots.py: `<camera>.jpg`, `.json`,
`.mask.png`) and draws it. Reading files rather than subscribing to the broker keeps the
picture on the device and the overlay on the very frame it belongs to. Registered through
cli.main.COMMAND_MODULES.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from edge_agent.errors import ConfigError, InputNotFoundError

_MASK_TINT_BGR = np.array([0, 200, 0], dtype=np.float32)


def register(subparsers: Any) -> None:
    """Add the `snapshot` sub-command."""
    parser = subparsers.add_parser(
        "snapshot", help="render the latest frame with masks, boxes, track ids and skeletons")
    parser.add_argument("--camera", required=True, help="camera id (cameras[].id)")
    parser.add_argument("--config", type=Path, default=None,
                        help="TOML config (default /etc/edge-agent/agent.toml): "
                        "models.snapshots says where the agent keeps the latest frames")
    parser.add_argument("--dir", type=Path, default=None,
                        help="snapshot folder instead of the config's models.snapshots.dir")
    parser.add_argument("--out", type=Path, default=None,
                        help="PNG to write (default snapshot-<camera>.png)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    folder = args.dir if args.dir is not None else _configured_dir(args.config)
    out = args.out or Path(f"snapshot-{args.camera}.png")
    written = render_snapshot(folder, args.camera, out)
    doc = _read_doc(folder, args.camera)
    age_s = max(time.time() - float(doc.get("capture_ts", 0.0)), 0.0)
    print(f"{written}: camera {args.camera}, frame {doc.get('frame_seq')}, "
          f"{len(doc.get('people', []))} tracked people, {age_s:.1f} s old")
    return 0


def _configured_dir(config: Optional[Path]) -> Path:
    from edge_agent.settings import DEFAULT_CONFIG_PATH
    from edge_agent.settings.config_file import load_settings

    settings = load_settings(config or DEFAULT_CONFIG_PATH)
    snapshots = settings.models.snapshots
    if not snapshots.enabled:
        raise ConfigError(
            "models.snapshots.enabled is false: the agent keeps no frames to draw",
            "set models.snapshots.enabled = true and reload the agent (systemctl reload "
            "edge-agent), or pass --dir")
    return Path(snapshots.dir)


def _read_doc(folder: Path, camera: str) -> Dict[str, Any]:
    path = folder / f"{camera}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputNotFoundError(
            f"no snapshot of camera {camera!r} in {folder} ({path.name} is missing)",
            "check the camera id, that the agent runs with models.snapshots.enabled and "
            "tracking on, and that it has seen a frame of that camera") from None
    except (OSError, ValueError) as err:
        raise InputNotFoundError(f"snapshot {path} cannot be read: {err}",
                        "wait for the agent's next snapshot and retry") from None
    if not isinstance(doc, dict):
        raise InputNotFoundError(f"snapshot {path} is not a JSON object",
                                 "retry after the next snapshot")
    return doc


def render_snapshot(folder: Path, camera: str, out: Path) -> Path:
    """Draw `camera`'s latest snapshot from `folder` into the PNG `out`; returns `out`."""
    import cv2

    from edge_agent.pose.render import RenderPerson, draw_people

    doc = _read_doc(folder, camera)
    frame = cv2.imread(str(folder / f"{camera}.jpg"), cv2.IMREAD_COLOR)
    if frame is None:
        raise InputNotFoundError(f"snapshot frame {folder / (camera + '.jpg')} is missing or "
                                 "not a JPEG", "retry after the agent's next snapshot")
    mask = cv2.imread(str(folder / f"{camera}.mask.png"), cv2.IMREAD_GRAYSCALE)
    if mask is not None:
        on = cv2.resize(mask, (frame.shape[1], frame.shape[0]),
                        interpolation=cv2.INTER_NEAREST) > 127
        tinted = frame.astype(np.float32)
        tinted[on] = 0.55 * tinted[on] + 0.45 * _MASK_TINT_BGR
        frame = tinted.astype(np.uint8)
    people: List[RenderPerson] = []
    for person in doc.get("people", []):
        keypoints = person.get("keypoints")
        points = np.asarray(keypoints, dtype=np.float64) if keypoints else None
        people.append(RenderPerson(
            box_xyxy=person.get("box"), track_id=person.get("track_id"),
            label=person.get("pose") or "",
            keypoints_px=points[:, :2] if points is not None else None,
            confidence=points[:, 2] if points is not None else None))
    picture = draw_people(frame, people)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), picture):
        raise InputNotFoundError(f"cannot write {out}", "choose a writable --out path")
    return out
