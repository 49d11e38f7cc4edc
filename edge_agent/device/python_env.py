"""Whether the venv's Python packages fit what JetPack compiled against: numpy, mainly.

The agent's venv is created with --system-site-packages so JetPack's compiled modules
(jetson-utils, TensorRT's bindings, the distribution's cv2) stay importable. Those were built
against the system's numpy 1.x C API; a numpy 2 installed into the venv shadows the system one
and they fail to import ("A module that was compiled using NumPy 1.x cannot be run in NumPy
2.x", dusty-nv/jetson-utils issue 231). The fix is the JetPack constraints file
(deploy/constraints-jetpack5.txt and -jetpack6.txt, numpy<2). Decisions here are plain
functions over version strings, tested without a Jetson; reading the versions is thin.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Tuple

from edge_agent.device.sysfs import read_text, under

CONSTRAINTS = "/usr/share/edge-agent/constraints-jetpack{major}.txt"  # deploy/constraints-*
_VERSION_PY = re.compile(r"""^(?:__)?version(?:__)?\s*[:=]\s*(?:str\s*=\s*)?['"]([^'"]+)['"]""",
                         re.MULTILINE)


def _major(version: str) -> int:
    match = re.match(r"\s*(\d+)", version)
    return int(match.group(1)) if match else -1


def dpkg_version(root: Path, package: str) -> str:
    """Upstream version of an installed Debian package (epoch and revision dropped), or ''."""
    text = read_text(under(root, "/var/lib/dpkg/status")) or ""
    for stanza in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines()
                      if ": " in line and not line.startswith(" "))
        if fields.get("Package") == package and "installed" in fields.get("Status", ""):
            version = fields.get("Version", "")
            return version.split(":", 1)[-1].split("-")[0].split("+")[0]
    return ""


def system_numpy_version(root: Path = Path("/")) -> str:
    """The distribution's numpy (python3-numpy), which JetPack's modules were built against."""
    text = read_text(under(root, "/usr/lib/python3/dist-packages/numpy/version.py")) or ""
    match = _VERSION_PY.search(text)
    return match.group(1) if match else dpkg_version(root, "python3-numpy")


def numpy_problem(venv_version: str, system_version: str) -> str:
    """Why the venv's numpy cannot serve the system's compiled modules ('' when it can)."""
    if not venv_version:
        return "numpy is not importable in the agent's Python"
    if system_version and _major(venv_version) >= 2 > _major(system_version) >= 0:
        return (f"numpy {venv_version} in the venv shadows the system numpy {system_version} "
                "that JetPack's compiled modules (jetson-utils, TensorRT's bindings) were built "
                "against; they cannot import under numpy 2")
    return ""


def numpy_fix() -> str:
    """The command that installs a numpy the system's modules accept."""
    constraints = CONSTRAINTS.format(major="6" if sys.version_info >= (3, 10) else "5")
    return (f"/opt/edge-agent/venv/bin/pip install -c {constraints} 'numpy<2' "
            "(deploy/install.sh uses these constraints on a Jetson)")


def numpy_versions(root: Path = Path("/")) -> Tuple[str, str]:
    """(venv numpy, system numpy); the venv one from the imported module."""
    try:
        import numpy

        venv = str(numpy.__version__)
    except ImportError:
        venv = ""
    return venv, system_numpy_version(root)
