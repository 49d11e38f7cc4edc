"""TensorRT versions: compare what dpkg says with what the module says, and refuse too-old ones.

dpkg names the upstream release with three parts (`8.5.2` of `8.5.2-1+cuda11.4`) while the
Python module reports four (`tensorrt.__version__ == "8.5.2.2"`, the build number last), so
the two must compare on major.minor.patch only. The agent's TensorRT path uses the name-based
I/O tensor API (`num_io_tensors`, `get_tensor_name`, `set_tensor_address`,
`execute_async_v3`), which TensorRT 8.5 introduced (TensorRT 8.5 release notes, "Deprecated
API": the binding-index API gave way to it). TensorRT 8.4 (JetPack 5.0.2) lacks it, so 8.5 —
JetPack 5.1 (L4T 35.2.1) — is the minimum, and an older TensorRT is refused with one line
instead of an AttributeError in the middle of a build.
"""

from __future__ import annotations

import re
from typing import Tuple

MINIMUM = (8, 5)
MINIMUM_JETPACK = "5.1 (L4T 35.2.1, TensorRT 8.5.2)"


def parse(version: str) -> Tuple[int, ...]:
    """Numeric parts of a version string ('8.5.2.2' -> (8, 5, 2, 2)); () when none."""
    match = re.match(r"\s*(\d+(?:\.\d+)*)", version or "")
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def release(version: str) -> Tuple[int, ...]:
    """major.minor.patch, zero-padded: what dpkg and the module agree on."""
    parts = parse(version)
    return (parts + (0, 0, 0))[:3] if parts else ()


def same_release(a: str, b: str) -> bool:
    """True when both name the same TensorRT release ('8.5.2' == '8.5.2.2')."""
    return bool(release(a)) and release(a) == release(b)


def supported(version: str) -> bool:
    """True for TensorRT >= MINIMUM."""
    parts = parse(version)
    return bool(parts) and (parts + (0,))[:2] >= MINIMUM


def refusal(version: str) -> str:
    """Why `version` is refused ('' when it is supported)."""
    if supported(version):
        return ""
    return (f"TensorRT {version or 'of unknown version'} is older than "
            f"{MINIMUM[0]}.{MINIMUM[1]}: the agent needs the name-based tensor API of TensorRT "
            f"8.5+, i.e. JetPack {MINIMUM_JETPACK} or newer")
