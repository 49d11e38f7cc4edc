"""The engine cache: serialized TensorRT engines wrapped in a header that says what they are for.

A TensorRT plan is only valid for the exact TensorRT version and GPU it was built on, and loading a
foreign or truncated one can crash the process inside the library. So each file carries our own
header before the plan: a magic, the full cache key (model sha256, device, TensorRT version,
precision, batch range, DLA core and GPU fallback, calibration hash) and the plan's sha256
and length. A file is loaded
only when magic, key and hash all match; anything else is reported as corrupt or foreign and
rebuilt, never handed to TensorRT. File names carry a digest of the key, so engines for several
settings coexist and the last good one stays until its replacement passed a smoke inference.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

MAGIC = b"EDGEAGENT-TRT\x00"
HEADER_VERSION = 1
_LEN = struct.Struct(">I")
_MAX_HEADER_BYTES = 64 * 1024
SUFFIX = ".engine"


@dataclass(frozen=True)
class EngineKey:
    """Everything an engine depends on; any difference means a different engine."""

    model_name: str
    model_sha256: str
    device: str  # DeviceIdentity.device_id, e.g. "orin_nano/p3767-0005"
    tensorrt_version: str
    precision: str
    batch_max: int
    dla_core: int
    calibration_sha256: str = ""
    gpu_fallback: bool = True
    batch_min: int = 1
    batch_opt: int = 1

    def digest(self) -> str:
        """16 hex digits of the sha256 of the canonical key."""
        canonical = json.dumps(asdict(self), sort_keys=True).encode("utf-8")
        return hashlib.sha256(canonical).hexdigest()[:16]

    def filename(self) -> str:
        """`<model>-<digest>.engine`."""
        return f"{self.model_name}-{self.digest()}{SUFFIX}"

    def differences(self, other: Dict[str, object]) -> List[str]:
        """Fields where a recorded key differs from this one, as 'field: recorded != expected'."""
        mine = asdict(self)
        return [f"{name}: {other.get(name)!r} != {value!r}" for name, value in mine.items()
                if other.get(name) != value]


@dataclass(frozen=True)
class EngineCheck:
    """Verdict on one engine file: 'valid', 'missing', 'corrupt' or 'foreign', and why."""

    path: Path
    status: str
    detail: str = ""
    header: Optional[Dict[str, object]] = None

    @property
    def valid(self) -> bool:
        """True only for a file whose header, key and payload hash all match."""
        return self.status == "valid"


def encode(key: EngineKey, plan: bytes, extra: Optional[Dict[str, object]] = None) -> bytes:
    """Header + plan bytes for `key`."""
    header = {"header_version": HEADER_VERSION, "key": asdict(key),
              "plan_sha256": hashlib.sha256(plan).hexdigest(), "plan_bytes": len(plan)}
    header.update(extra or {})
    blob = json.dumps(header, sort_keys=True).encode("utf-8")
    return MAGIC + _LEN.pack(len(blob)) + blob + plan


def read_header(data: bytes) -> Tuple[Dict[str, object], bytes]:
    """(header, plan) of an engine file's bytes; ValueError saying what is wrong otherwise."""
    if not data.startswith(MAGIC):
        raise ValueError("no edge-agent header (a raw or foreign engine file)")
    start = len(MAGIC) + _LEN.size
    if len(data) < start:
        raise ValueError("truncated header")
    (length,) = _LEN.unpack_from(data, len(MAGIC))
    if length > _MAX_HEADER_BYTES or len(data) < start + length:
        raise ValueError("truncated or oversized header")
    try:
        header = json.loads(data[start:start + length].decode("utf-8"))
    except ValueError as exc:
        raise ValueError(f"unreadable header: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(header.get("key"), dict):
        raise ValueError("header has no key")
    plan = data[start + length:]
    if header.get("plan_bytes") != len(plan):
        raise ValueError(f"plan is {len(plan)} bytes, header says {header.get('plan_bytes')}")
    if header.get("plan_sha256") != hashlib.sha256(plan).hexdigest():
        raise ValueError("plan sha256 does not match the header (corrupt file)")
    return header, plan


def check_file(path: Path, expected: Optional[EngineKey]) -> EngineCheck:
    """Verify one file against `expected` (None: only its own integrity)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return EngineCheck(path, "missing", "no such file")
    except OSError as exc:
        return EngineCheck(path, "corrupt", f"unreadable: {exc}")
    try:
        header, _ = read_header(data)
    except ValueError as exc:
        return EngineCheck(path, "corrupt", str(exc))
    if expected is not None:
        recorded = header["key"]
        assert isinstance(recorded, dict)
        diffs = expected.differences(recorded)
        if diffs:
            return EngineCheck(path, "foreign", "; ".join(diffs), header)
    return EngineCheck(path, "valid", "", header)


class EngineCache:
    """A directory of engine files keyed by EngineKey."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, key: EngineKey) -> Path:
        """Where the engine for `key` lives."""
        return self.directory / key.filename()

    def check(self, key: EngineKey) -> EngineCheck:
        """Verdict on the cached engine for `key`."""
        return check_file(self.path_for(key), key)

    def load(self, key: EngineKey) -> Optional[bytes]:
        """The plan for `key` when its file is valid; None when missing, corrupt or foreign."""
        verdict = self.check(key)
        if not verdict.valid:
            return None
        _, plan = read_header(self.path_for(key).read_bytes())
        return plan

    def store(self, key: EngineKey, plan: bytes, extra: Optional[Dict[str, object]] = None
              ) -> Path:
        """Write atomically (temp file + rename): readers see the old engine or the new one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(key)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                        dir=str(self.directory))
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(encode(key, plan, extra))
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp_name).replace(path)
        except BaseException:
            Path(tmp_name).unlink()
            raise
        return path

    def entries(self) -> List[EngineCheck]:
        """Integrity verdict (not key match) of every engine file in the directory."""
        if not self.directory.is_dir():
            return []
        return [check_file(p, None) for p in sorted(self.directory.glob(f"*{SUFFIX}"))]

    def remove(self, path: Path) -> None:
        """Delete one engine file (missing is fine)."""
        try:
            Path(path).unlink()
        except FileNotFoundError:
            pass
