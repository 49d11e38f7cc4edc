"""TensorRT's INT8 calibration cache text format: write, parse, and read its version header.

The format, as TensorRT-side code reads and writes it (model-contracts.md section 7):

* line 1 `TRT-<version>-<algorithm>`, e.g. `TRT-8601-EntropyCalibration2`. The number is
  TensorRT's `NV_TENSORRT_VERSION`: major*1000 + minor*100 + patch up to 8.x (NvInfer.h of 8.x,
  and TAO's exporter `_trt_version_number`), major*10000 + minor*100 + patch from 10.x
  (`NV_TENSORRT_VERSION_INT` in NvInferRuntimeBase.h of 10.x);
* then one line per tensor, `<tensor name>: <hex>`, where `<hex>` is the IEEE-754 float32 bit
  pattern of the tensor's *scale* (dynamic range / 127) printed as a big-endian integer without
  `0x` (TAO's `_calibration_cache_from_dict` writes it so; ONNX Runtime's TensorRT provider,
  `ReadDynamicRange`, reads it with strtoul(hex, 16) and multiplies by 127).

Tensor names may themselves contain colons (`input_1:0` in NGC's ONNX releases), so a line is
split at its *last* ": ". Hand-written because no maintained Python package parses this format
(Polygraphy treats the cache as opaque bytes).
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from typing import Dict, Mapping, Tuple

DEFAULT_ALGORITHM = "EntropyCalibration2"
# The calibrator algorithms TensorRT names in cache headers (IInt8Calibrator subclasses).
KNOWN_ALGORITHMS = (
    "EntropyCalibration2",
    "EntropyCalibration",
    "MinMaxCalibration",
    "LegacyCalibration",
)
INT8_MAX = 127.0
_HEADER = re.compile(r"^TRT-(\d+)-([A-Za-z0-9]+)$")
_HEX = re.compile(r"^[0-9a-fA-F]{1,8}$")
_BE_FLOAT = struct.Struct(">f")
_BE_UINT = struct.Struct(">I")


class CacheFormatError(ValueError):
    """The text is not a TensorRT calibration cache; the message names the line and why."""


@dataclass(frozen=True)
class CalibrationCache:
    """A parsed cache: TensorRT version number, algorithm and the scale of each tensor."""

    version_number: int
    algorithm: str
    scales: Dict[str, float]

    @property
    def tensorrt_major(self) -> int:
        """TensorRT major version the header names."""
        return major_from_version_number(self.version_number)

    def dynamic_ranges(self) -> Dict[str, float]:
        """amax per tensor: the scale times 127, as TensorRT applies it."""
        return {name: scale * INT8_MAX for name, scale in self.scales.items()}


def version_number(version: str) -> int:
    """TensorRT's NV_TENSORRT_VERSION for a 'major.minor.patch[.build]' version string."""
    parts = (version.strip().split(".") + ["0", "0"])[:3]
    try:
        major, minor, patch = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"TensorRT version {version!r} is not 'major.minor.patch'") from None
    if major >= 10:
        return major * 10000 + minor * 100 + patch
    return major * 1000 + minor * 100 + patch


def major_from_version_number(number: int) -> int:
    """Inverse of the major part of `version_number` (10.x and later use the wider encoding)."""
    return number // 10000 if number >= 100000 else number // 1000


def scale_to_hex(scale: float) -> str:
    """Big-endian hex of the float32 bit pattern, zero-padded to 8 digits."""
    value = float(scale)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"a calibration scale must be a positive finite number, not {scale!r}")
    (bits,) = _BE_UINT.unpack(_BE_FLOAT.pack(value))
    return f"{bits:08x}"


def hex_to_scale(text: str) -> float:
    """Decode one hex field; left-padded because writers using Python's hex() drop zeros."""
    if not _HEX.match(text):
        raise ValueError(f"{text!r} is not 1-8 hex digits")
    (value,) = _BE_FLOAT.unpack(bytes.fromhex(text.rjust(8, "0")))
    return float(value)


def format_cache(version_number_: int, scales: Mapping[str, float],
                 algorithm: str = DEFAULT_ALGORITHM) -> str:
    """The cache text: header, then `name: hex` per tensor in the given order."""
    if algorithm not in KNOWN_ALGORITHMS:
        raise ValueError(f"unknown calibration algorithm {algorithm!r}")
    lines = [f"TRT-{int(version_number_)}-{algorithm}"]
    for name, scale in scales.items():
        if not name or "\n" in name:
            raise ValueError(f"tensor name {name!r} cannot be written to a cache line")
        lines.append(f"{name}: {scale_to_hex(scale)}")
    return "\n".join(lines) + "\n"


def parse_cache(text: str) -> CalibrationCache:
    """Parse cache text; CacheFormatError naming the first bad line otherwise."""
    lines = text.splitlines()
    if not lines:
        raise CacheFormatError("the cache is empty (no TRT-<version>-<algorithm> header)")
    header = lines[0].strip()
    match = _HEADER.match(header)
    if match is None:
        raise CacheFormatError(
            f"line 1 is {header[:60]!r}, not a TRT-<version>-<algorithm> header")
    algorithm = match.group(2)
    if algorithm not in KNOWN_ALGORITHMS:
        raise CacheFormatError(f"line 1 names unknown algorithm {algorithm!r}")
    scales: Dict[str, float] = {}
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line:
            continue
        name, value = _split_entry(line, number)
        if name in scales:
            raise CacheFormatError(f"line {number}: tensor {name!r} appears twice")
        try:
            scale = hex_to_scale(value)
        except ValueError as exc:
            raise CacheFormatError(f"line {number}: {exc}") from None
        if not math.isfinite(scale) or scale <= 0.0:
            raise CacheFormatError(f"line {number}: scale {scale!r} of {name!r} is not positive")
        scales[name] = scale
    if not scales:
        raise CacheFormatError("the cache has a header but no tensor lines")
    return CalibrationCache(int(match.group(1)), algorithm, scales)


def _split_entry(line: str, number: int) -> Tuple[str, str]:
    name, sep, value = line.rpartition(": ")
    if not sep or not name:
        raise CacheFormatError(f"line {number} is {line[:60]!r}, not '<tensor>: <hex>'")
    return name, value.strip()
