"""Which device is this: Jetson module and SKU, L4T/JetPack, TensorRT and CUDA versions.

The module is read from `/proc/device-tree/compatible` (NUL-separated; the first entry is
`nvidia,<carrier>+<module>-<sku>`), never from the model string, which reflects the carrier
board's device tree rather than the module (docs: jetson-facts.md §1.2–1.3). Orin NX and Orin Nano
share module p3767 and differ only by SKU. Software versions are read from package metadata and
files, never by importing tensorrt, so the CPU path stays free of GPU libraries.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

from edge_agent.device.sysfs import read_text, under

# Device kinds a profile can name (engines/devices/*.toml `device_kinds`).
NANO = "nano"
XAVIER_NX = "xavier_nx"
AGX_XAVIER = "agx_xavier"
ORIN_NANO = "orin_nano"
ORIN_NX = "orin_nx"
AGX_ORIN = "agx_orin"
UNKNOWN_JETSON = "unknown_jetson"
X86_GPU = "x86_gpu"
CPU_ONLY = "cpu"

JETSON_KINDS = (NANO, XAVIER_NX, AGX_XAVIER, ORIN_NANO, ORIN_NX, AGX_ORIN)

# Module P-number → kind (jetson-gpio module lists, jtop MODULE_NAME_TABLE). p3767 needs the SKU.
_MODULE_KIND: Dict[str, str] = {
    "p3448": NANO,
    "p3668": XAVIER_NX,
    "p2888": AGX_XAVIER,
    "p3701": AGX_ORIN,
}
# p3767 SKUs: 0000/0001 Orin NX 16/8 GB, 0003/0004/0005 Orin Nano 8/4/8(devkit) GB (jetson-gpio).
# 0002 maps to the Orin NX conf file (LineageOS concord init); calling it Orin NX is UNCONFIRMED.
_P3767_NX_SKUS = ("0000", "0001", "0002")
# Old JetPack 4 images without the carrier+module form (jetson-gpio fallbacks).
_LEGACY_COMPATIBLE: Dict[str, str] = {
    "nvidia,jetson-nano": NANO,
    "nvidia,p3450-0000": NANO,
    "nvidia,p3450-0002": NANO,
    "nvidia,p2972-0000": AGX_XAVIER,
    "nvidia,p2972-0006": AGX_XAVIER,
    "nvidia,jetson-xavier": AGX_XAVIER,
    "nvidia,galen": AGX_XAVIER,
}
_MODULE_RE = re.compile(r"\+(p\d{4})-(\d{4})(-super)?")
_RELEASE_RE = re.compile(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+)\.(\d+)")

# L4T → JetPack, selected rows of jtop NVIDIA_JETPACK / jetson-containers (jetson-facts.md §1.4).
_L4T_JETPACK: Dict[str, str] = {
    "32.6.1": "4.6", "32.7.1": "4.6.1", "32.7.2": "4.6.2", "32.7.3": "4.6.3",
    "32.7.4": "4.6.4", "32.7.5": "4.6.5", "32.7.6": "4.6.6", "35.1.0": "5.0.2",
    "35.2.1": "5.1", "35.3.1": "5.1.1", "35.4.1": "5.1.2", "35.5.0": "5.1.3",
    "36.3.0": "6.0", "36.4.0": "6.1", "36.4.3": "6.2", "36.4.4": "6.2.1",
    "38.2.0": "7.0", "39.2.0": "7.2",
}


@dataclass(frozen=True)
class DeviceIdentity:
    """What the agent runs on; `kind` selects the device profile."""

    kind: str
    module: str = ""  # e.g. "p3767-0005"; "" off Jetson
    soc: str = ""  # e.g. "tegra234"
    super_variant: bool = False  # JetPack 6.2 "-super" SKU suffix
    compatible: Tuple[str, ...] = ()
    model: str = ""
    l4t: str = ""
    jetpack: str = ""
    tensorrt: str = ""
    cuda: str = ""

    @property
    def device_id(self) -> str:
        """Stable text naming the hardware for engine cache keys: kind plus module and SKU."""
        return f"{self.kind}/{self.module}" if self.module else self.kind

    def as_dict(self) -> Dict[str, object]:
        """JSON-friendly view for `doctor` and telemetry."""
        return {
            "kind": self.kind, "module": self.module, "soc": self.soc, "model": self.model,
            "l4t": self.l4t, "jetpack": self.jetpack, "tensorrt": self.tensorrt,
            "cuda": self.cuda, "super": self.super_variant,
        }


def parse_compatible(data: str) -> Tuple[str, ...]:
    """Entries of a device-tree `compatible` file (NUL-separated, trailing NUL)."""
    return tuple(part.strip() for part in data.split("\x00") if part.strip())


def classify(compatible: Tuple[str, ...]) -> Tuple[str, str, str, bool]:
    """(kind, module, soc, super) from compatible entries; kind UNKNOWN_JETSON if unrecognised."""
    # Orin lists `nvidia,tegra234` and then the family entry `nvidia,tegra23x` (jetson-facts.md,
    # NVIDIA/jetson-gpio issue 125): the SoC is the all-digit entry; the family one is only a
    # fallback for a tree that has nothing else.
    tegra = [c.split(",", 1)[1] for c in compatible if c.startswith("nvidia,tegra")]
    soc = next((t for t in tegra if t[len("tegra"):].isdigit()), tegra[-1] if tegra else "")
    for entry in compatible:
        match = _MODULE_RE.search(entry)
        if not match:
            continue
        number, sku, super_ = match.group(1), match.group(2), bool(match.group(3))
        module = f"{number}-{sku}"
        if number == "p3767":
            return (ORIN_NX if sku in _P3767_NX_SKUS else ORIN_NANO), module, soc, super_
        if number in _MODULE_KIND:
            return _MODULE_KIND[number], module, soc, super_
    for entry in compatible:
        if entry in _LEGACY_COMPATIBLE:
            return _LEGACY_COMPATIBLE[entry], "", soc, False
    return UNKNOWN_JETSON, "", soc, False


def parse_nv_tegra_release(text: str) -> str:
    """L4T version 'major.minor.patch' from /etc/nv_tegra_release's first line, or ''."""
    match = _RELEASE_RE.search(text.splitlines()[0] if text else "")
    return ".".join(match.groups()) if match else ""


def jetpack_for(l4t: str) -> str:
    """JetPack release for an L4T version from the table above, or '' when not listed."""
    return _L4T_JETPACK.get(l4t, "")


def read_identity(root: Path = Path("/")) -> DeviceIdentity:
    """Identify the device under `root` (a fixture tree in tests)."""
    compatible_text = read_text(under(root, "/proc/device-tree/compatible"))
    tensorrt = tensorrt_version(root)
    cuda = cuda_version(root)
    if compatible_text is None or not any(
        c.startswith("nvidia,") for c in parse_compatible(compatible_text)
    ):
        kind = X86_GPU if _has_nvidia_driver(root) else CPU_ONLY
        return DeviceIdentity(kind=kind, tensorrt=tensorrt, cuda=cuda)
    compatible = parse_compatible(compatible_text)
    kind, module, soc, super_ = classify(compatible)
    model = (read_text(under(root, "/proc/device-tree/model")) or "").rstrip("\x00")
    l4t = parse_nv_tegra_release(read_text(under(root, "/etc/nv_tegra_release")) or "")
    return DeviceIdentity(
        kind=kind, module=module, soc=soc, super_variant=super_, compatible=compatible,
        model=model, l4t=l4t, jetpack=jetpack_for(l4t), tensorrt=tensorrt, cuda=cuda,
    )


def _has_nvidia_driver(root: Path) -> bool:
    return under(root, "/proc/driver/nvidia/version").exists() or under(
        root, "/dev/nvidia0").exists()


def tensorrt_version(root: Path = Path("/")) -> str:
    """TensorRT version without importing it: pip metadata (real root only), else dpkg status."""
    if Path(root) == Path("/"):
        from importlib import metadata  # 3.8+

        for dist in ("tensorrt", "tensorrt-cu12", "tensorrt_lean"):
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
    return _dpkg_version(root, ("tensorrt", "python3-libnvinfer", "libnvinfer10", "libnvinfer8"))


def cuda_version(root: Path = Path("/")) -> str:
    """CUDA version from /usr/local/cuda/version.json (JP5+) or version.txt (JP4), else ''."""
    text = read_text(under(root, "/usr/local/cuda/version.json"))
    if text:
        try:
            data = json.loads(text)
            for key in ("cuda", "cuda_cudart", "cuda_nvcc"):
                version = data.get(key, {}).get("version")
                if isinstance(version, str):
                    return version
        except (ValueError, AttributeError):
            pass
    text = read_text(under(root, "/usr/local/cuda/version.txt")) or ""
    match = re.search(r"CUDA Version\s+([\d.]+)", text)
    return match.group(1) if match else ""


def _dpkg_version(root: Path, packages: Tuple[str, ...]) -> str:
    """Version of the first installed package of `packages` in dpkg's status file, upstream part."""
    text = read_text(under(root, "/var/lib/dpkg/status")) or ""
    found: Dict[str, str] = {}
    for stanza in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " "
        )
        name = fields.get("Package", "")
        if name in packages and "installed" in fields.get("Status", "") and "Version" in fields:
            found[name] = fields["Version"].split("-")[0].split("+")[0]
    return next((found[p] for p in packages if p in found), "")
