"""Device identity from compatible strings, nv_tegra_release and versions, on fixture trees."""

from __future__ import annotations

from pathlib import Path

import pytest
from jetson_tree import (
    AGX_ORIN_COMPATIBLE,
    CLARA_AGX_COMPATIBLE,
    FIXTURES,
    agx_orin_tree,
    nano_tree,
    write,
)

from edge_agent.device.identity import (
    classify,
    cuda_version,
    parse_compatible,
    parse_nv_tegra_release,
    read_identity,
    tensorrt_version,
)

RELEASES = FIXTURES / "identity" / "nv_tegra_release"


@pytest.mark.parametrize(
    ("file", "l4t"),
    [
        ("r32.3.1__nano.txt", "32.3.1"),
        ("r32.7.1.txt", "32.7.1"),
        ("r34.1.2__clara-agx.txt", "34.1.2"),
        ("r35.2.1.txt", "35.2.1"),
        ("r35.3.1.txt", "35.3.1"),
        ("r38.2.0__agx-thor.txt", "38.2.0"),
        ("r39.2.0__agx-orin.txt", "39.2.0"),
    ],
)
def test_l4t_from_every_captured_release_line(file: str, l4t: str) -> None:
    assert parse_nv_tegra_release((RELEASES / file).read_text()) == l4t


def test_garbage_release_file_gives_no_version() -> None:
    assert parse_nv_tegra_release("") == ""
    assert parse_nv_tegra_release("hello\n# R35 (release)") == ""


@pytest.mark.parametrize(
    ("compatible", "kind", "module"),
    [
        (AGX_ORIN_COMPATIBLE, "agx_orin", "p3701-0005"),
        (CLARA_AGX_COMPATIBLE, "agx_xavier", "p2888-0004"),
        ("nvidia,p3768-0000+p3767-0005\0nvidia,tegra234\0", "orin_nano", "p3767-0005"),
        ("nvidia,p3768-0000+p3767-0003\0nvidia,tegra234\0", "orin_nano", "p3767-0003"),
        ("nvidia,p3768-0000+p3767-0000\0nvidia,tegra234\0", "orin_nx", "p3767-0000"),
        ("nvidia,p3509-0000+p3767-0001\0nvidia,tegra234\0", "orin_nx", "p3767-0001"),
        ("nvidia,p3509-0000+p3668-0001\0nvidia,tegra194\0", "xavier_nx", "p3668-0001"),
        ("nvidia,jetson-nano\0nvidia,tegra210\0", "nano", ""),  # old JP4 image
        ("nvidia,p3999-0000+p9999-0001\0nvidia,tegra264\0", "unknown_jetson", ""),
    ],
)
def test_classify_module_and_sku(compatible: str, kind: str, module: str) -> None:
    got_kind, got_module, _, _ = classify(parse_compatible(compatible))
    assert (got_kind, got_module) == (kind, module)


def test_super_suffix_is_recognised() -> None:
    kind, module, soc, super_ = classify(parse_compatible(
        "nvidia,p3768-0000+p3767-0005-super\0nvidia,tegra234\0"))
    assert (kind, module, soc, super_) == ("orin_nano", "p3767-0005", "tegra234", True)


def test_agx_orin_tree(tmp_path: Path) -> None:
    identity = read_identity(agx_orin_tree(tmp_path))
    assert identity.kind == "agx_orin"
    assert identity.device_id == "agx_orin/p3701-0005"
    assert identity.soc == "tegra234"  # not the family entry tegra23x listed after it
    assert identity.l4t == "36.3.0" and identity.jetpack == "6.0"
    assert identity.model == "Jetson AGX Orin"


def test_nano_tree(tmp_path: Path) -> None:
    identity = read_identity(nano_tree(tmp_path))
    assert (identity.kind, identity.module, identity.l4t) == ("nano", "p3448-0000", "32.3.1")


def test_x86_with_nvidia_driver_and_cpu_only(tmp_path: Path) -> None:
    assert read_identity(tmp_path).kind == "cpu"
    write(tmp_path, "/proc/driver/nvidia/version", "NVRM version: 550\n")
    assert read_identity(tmp_path).kind == "x86_gpu"


def test_versions_from_dpkg_and_cuda_files(tmp_path: Path) -> None:
    write(tmp_path, "/var/lib/dpkg/status",
          "Package: bash\nStatus: install ok installed\nVersion: 5.1\n\n"
          "Package: tensorrt\nStatus: install ok installed\nVersion: 8.5.2.2-1+cuda11.4\n")
    write(tmp_path, "/usr/local/cuda/version.json", '{"cuda": {"version": "11.4.19"}}')
    assert tensorrt_version(tmp_path) == "8.5.2.2"
    assert cuda_version(tmp_path) == "11.4.19"
    (tmp_path / "usr/local/cuda/version.json").unlink()
    write(tmp_path, "/usr/local/cuda/version.txt", "CUDA Version 10.2.300\n")
    assert cuda_version(tmp_path) == "10.2.300"
