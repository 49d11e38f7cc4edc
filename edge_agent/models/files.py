"""Writing model files safely, and where a model's sidecar lives (no ONNX needed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from edge_agent.models.manifest import SIDECAR_SUFFIX


def sidecar_path(onnx_path: Path) -> Path:
    """`<dir>/<name>.manifest.json` next to `<dir>/<name>.onnx`."""
    return onnx_path.with_name(onnx_path.stem + SIDECAR_SUFFIX)


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a sibling temporary file and rename, so `path` is old or new, never partial."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink()
        raise
