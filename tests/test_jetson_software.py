"""Version and numpy decisions for the Jetson software stack (pure functions, no device)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jetson_tree import write

from edge_agent.device.python_env import dpkg_version, numpy_problem, system_numpy_version
from edge_agent.inference.tensorrt_version import refusal, release, same_release, supported


@pytest.mark.parametrize("a,b,same", [
    ("8.5.2", "8.5.2.2", True), ("8.5.2-1+cuda11.4", "8.5.2.2", True),
    ("10.3.0", "10.3.0.30", True), ("8.5.2", "8.6.2.3", False), ("", "8.5.2", False),
])
def test_dpkg_and_module_versions_compare_on_the_release(a: str, b: str, same: bool) -> None:
    assert same_release(a, b) is same


def test_minimum_tensorrt_is_8_5() -> None:
    assert release("8.5") == (8, 5, 0)
    assert supported("8.5.2.2") and supported("10.3.0.30")
    assert not supported("8.4.1.5") and not supported("")
    assert "JetPack 5.1" in refusal("8.4.1.5") and refusal("8.6.2.3") == ""


def test_numpy_problem_only_for_numpy2_over_a_numpy1_system() -> None:
    assert "shadows the system numpy 1.21.5" in numpy_problem("2.2.6", "1.21.5")
    assert numpy_problem("1.26.4", "1.21.5") == ""
    assert numpy_problem("2.2.6", "") == ""  # no system numpy: nothing compiled against it
    assert numpy_problem("2.2.6", "2.1.0") == ""
    assert "not importable" in numpy_problem("", "1.17.4")


def test_system_numpy_from_version_py_or_dpkg(tmp_path: Path) -> None:
    write(tmp_path, "/var/lib/dpkg/status",
          "Package: python3-numpy\nStatus: install ok installed\n"
          "Version: 1:1.21.5-1ubuntu22.04.1\n")
    assert dpkg_version(tmp_path, "python3-numpy") == "1.21.5"
    assert system_numpy_version(tmp_path) == "1.21.5"
    write(tmp_path, "/usr/lib/python3/dist-packages/numpy/version.py",
          "version: str = '1.17.4'\n")
    assert system_numpy_version(tmp_path) == "1.17.4"
