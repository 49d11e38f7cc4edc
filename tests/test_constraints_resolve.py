"""The JetPack constraints resolve to aarch64 wheels for Python 3.8 (JetPack 5) and 3.10 (6).

Runs `pip install --dry-run --only-binary=:all: --platform manylinux2014_aarch64 --platform
manylinux_2_28_aarch64 --python-version X` against PyPI with the package's own requirements
(setup.cfg) plus cuda-python and the constraints file install.sh uses. pip evaluates
environment markers against the interpreter it runs in, not --python-version, so markers are
evaluated here for the target first. Needs PyPI: without it the test says so and skips.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Dict, List

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
INDEX = "https://pypi.org/simple"


def pypi_reachable() -> bool:
    try:
        with urllib.request.urlopen(f"{INDEX}/pip/", timeout=10):  # noqa: S310 - fixed URL
            return True
    except OSError:
        return False


def requirements_for(python: str) -> List[str]:
    """setup.cfg's install_requires whose markers hold on Linux aarch64 with `python`."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = [x.strip() for x in config["options"]["install_requires"].splitlines() if x.strip()]
    env = {"python_version": python, "python_full_version": python + ".0",
           "platform_machine": "aarch64", "sys_platform": "linux", "os_name": "posix",
           "platform_system": "Linux", "implementation_name": "cpython"}
    kept = []
    for line in lines + ["cuda-python"]:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(env):
            requirement.marker = None
            kept.append(str(requirement))
    return kept


def resolve(tmp_path: Path, python: str, constraints: Path) -> Dict[str, Version]:
    report = tmp_path / f"report-{python}.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--target", str(tmp_path / "target"), "--report", str(report), "--quiet",
               "--index-url", INDEX, "--only-binary=:all:",
               "--platform", "manylinux2014_aarch64", "--platform", "manylinux_2_28_aarch64",
               "--python-version", python, "-c", str(constraints)] + requirements_for(python)
    # The machine's pip configuration (extra indexes, a global constraints file) must not
    # take part: only PyPI and our constraints.
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull)
    env.pop("PIP_CONSTRAINT", None)
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(report.read_text(encoding="utf-8"))
    return {item["metadata"]["name"].lower().replace("_", "-"):
            Version(item["metadata"]["version"]) for item in data["install"]}


@pytest.mark.slow
@pytest.mark.parametrize("python,constraints,cuda_python", [
    ("3.8", "constraints-jetpack5.txt", Version("11.8.2")),
    ("3.10", "constraints-jetpack6.txt", Version("12.2")),
])
def test_jetpack_constraints_resolve_to_aarch64_wheels(
        tmp_path: Path, python: str, constraints: str, cuda_python: Version) -> None:
    if not pypi_reachable():
        pytest.skip("PyPI is not reachable from here: dependency resolution not checked")
    resolved = resolve(tmp_path, python, ROOT / "deploy" / constraints)
    assert resolved["numpy"] < Version("2"), resolved  # JetPack's modules use numpy 1.x
    assert resolved["opencv-python-headless"] < Version("4.11"), resolved
    assert resolved["cuda-python"].release[:len(cuda_python.release)] == cuda_python.release
    # onnx is an extra (stand-ins, calibration): a device resolves without it.
    assert "onnx" not in resolved
    for name in ("onnxruntime", "scipy", "paho-mqtt", "pydantic"):
        assert name in resolved, f"{name} has no aarch64 wheel for Python {python}"
