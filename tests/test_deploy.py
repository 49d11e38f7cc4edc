"""deploy/: the install script, the uninstall script and the .deb, run into throwaway roots.

Everything runs for real: systemd-sysusers and systemd-tmpfiles write the root's passwd and
directories, `systemctl --root` enables the units, python builds the venv and pip installs
the wheel (with --no-deps: the dependencies are the same PyPI packages CI already installed,
and fetching them again would only test the network). Owners are checked when the test runs
as root, as CI does.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from systemd_tools import analyze, require_systemd_analyze, stage_units

from edge_agent import __version__
from edge_agent.errors import ExitCode
from edge_agent.models.standin import write_standin

ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "deploy" / "install.sh"
UNINSTALL = ROOT / "deploy" / "uninstall.sh"
BUILD_DEB = ROOT / "deploy" / "build-deb.sh"
IS_ROOT = os.geteuid() == 0

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    yield next(out.glob("edge_agent-*.whl"))


def env() -> Dict[str, str]:
    return dict(os.environ, EDGE_AGENT_PIP_ARGS="--no-deps", EDGE_AGENT_PYTHON=sys.executable)


def run(args: List[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, env=env(), timeout=240, check=False, **kwargs
    )


def with_test_dependencies() -> Dict[str, str]:
    """The wheel went in with --no-deps: lend it this test run's installed dependencies.

    PYTHONPATH dirs are searched before the venv's site-packages but their .pth files are not
    processed, so the installed edge_agent still wins over this checkout's editable one.
    """
    purelib = sysconfig.get_paths()["purelib"]
    return dict(os.environ, PYTHONPATH=purelib)


def passwd(root: Path, name: str) -> List[str]:
    for line in (root / "etc" / "passwd").read_text(encoding="utf-8").splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    raise AssertionError(f"no user {name} in {root}/etc/passwd")


def group(root: Path, name: str) -> List[str]:
    for line in (root / "etc" / "group").read_text(encoding="utf-8").splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    raise AssertionError(f"no group {name} in {root}/etc/group")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_installed_tree(root: Path) -> None:
    """What install.sh (and the .deb's postinst) must leave behind, checked in the tree."""
    user = passwd(root, "edge-agent")
    assert 0 < int(user[2]) < 1000, "not a system uid"
    assert user[5] == "/var/lib/edge-agent" and user[6] == "/usr/sbin/nologin"
    assert "edge-agent" in group(root, "video")[3].split(",")
    gid = int(group(root, "edge-agent")[2])

    units = root / "lib" / "systemd" / "system"
    names = ("edge-agent.service", "edge-agent-power-mode.service", "edge-agent-power-mode.path")
    for name in names:
        assert (units / name).read_bytes() == (ROOT / "systemd" / name).read_bytes()
        assert mode(units / name) == 0o644
    wants = root / "etc" / "systemd" / "system" / "multi-user.target.wants"
    assert os.readlink(wants / "edge-agent.service") == "/lib/systemd/system/edge-agent.service"
    assert (wants / "edge-agent-power-mode.path").is_symlink()

    config = root / "etc" / "edge-agent" / "agent.toml"
    assert mode(config) == 0o640 and mode(config.parent) == 0o750
    state = root / "var" / "lib" / "edge-agent"
    assert mode(state / "power-mode") == 0o750
    if IS_ROOT:
        assert config.stat().st_uid == 0 and config.stat().st_gid == gid
        assert (state / "power-mode").stat().st_uid == int(user[2])

    venv = root / "opt" / "edge-agent" / "venv"
    pyvenv = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = true" in pyvenv
    version = subprocess.run(
        [str(venv / "bin" / "edge-agent"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"edge-agent {__version__}"
    # `config check` makes run's start-up checks: a fresh install has no model yet.
    check = [str(venv / "bin" / "edge-agent"), "config", "check", str(config)]
    checked = subprocess.run(check, capture_output=True, text=True, check=False,
                             env=with_test_dependencies())
    assert checked.returncode == ExitCode.CONFIG, checked.stdout + checked.stderr
    assert "1 problem(s)" in checked.stdout and ".onnx does not exist" in checked.stdout
    models = root / "tmp-models"
    write_standin("peoplesemsegnet_shuffleseg", models)
    env = {**with_test_dependencies(), "EDGE_AGENT_MODELS__DIR": str(models)}
    checked = subprocess.run(check, capture_output=True, text=True, check=False, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The helper's ExecStart exactly: -I, module from the venv.
    helper = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-m", "edge_agent.powermode.apply", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert helper.returncode == 0, helper.stderr


def test_install_script_into_a_throwaway_root(tmp_path: Path, wheel: Path) -> None:
    require_systemd_analyze()
    root = tmp_path / "root"
    done = run([str(INSTALL), "--root", str(root), "--wheel", str(wheel)])
    assert done.returncode == 0, done.stderr
    check_installed_tree(root)
    # The installed unit verifies with its ExecStart pointing at the binary just installed.
    staged = stage_units(tmp_path / "verify", prefix=str(root))
    verified = analyze("verify", *[str(p) for p in staged])
    assert verified.returncode == 0, verified.stderr

    # Re-running keeps a config the operator edited.
    config = root / "etc" / "edge-agent" / "agent.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    again = run([str(INSTALL), "--root", str(root), "--wheel", str(wheel), "--no-enable"])
    assert again.returncode == 0, again.stderr
    assert config.read_text(encoding="utf-8").endswith("# edited\n")

    removed = run([str(UNINSTALL), "--root", str(root)])
    assert removed.returncode == 0, removed.stderr
    assert not (root / "opt" / "edge-agent").exists()
    assert not (root / "lib" / "systemd" / "system" / "edge-agent.service").exists()
    wants = root / "etc" / "systemd" / "system" / "multi-user.target.wants"
    assert not (wants / "edge-agent.service").is_symlink()
    assert config.exists()  # kept without --purge
    purged = run([str(UNINSTALL), "--root", str(root), "--purge"])
    assert purged.returncode == 0 and not config.exists()
    assert not (root / "var" / "lib" / "edge-agent").exists()


def test_install_refuses_python_older_than_3_8(tmp_path: Path) -> None:
    """JetPack 4 (Jetson Nano) has Python 3.6: the script stops and points at the docs."""
    fake = tmp_path / "python3.6"
    fake.write_text(
        "#!/bin/sh\n# FAKE python3.6 (JetPack 4's interpreter): too old for edge-agent\n"
        'case "$*" in *version_info*) exit 1 ;; -V) echo "Python 3.6.9" ;; esac\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    done = run([str(INSTALL), "--root", str(tmp_path / "root"), "--python", str(fake)])
    assert done.returncode == 1
    assert "Python >= 3.8" in done.stderr and "Jetson Nano" in done.stderr
    assert not (tmp_path / "root" / "opt").exists()


def test_debian_package(tmp_path: Path, wheel: Path) -> None:
    require_systemd_analyze()
    built = run([str(BUILD_DEB), "--out", str(tmp_path / "dist"), "--wheel", str(wheel)])
    assert built.returncode == 0, built.stderr
    deb = Path(built.stdout.strip().splitlines()[-1])
    assert deb.name == f"edge-agent_{__version__}_all.deb"

    info = run(["dpkg-deb", "--field", str(deb)]).stdout
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
    assert fields["Package"] == "edge-agent" and fields["Architecture"] == "all"
    assert fields["Version"] == __version__
    assert "python3 (>= 3.8)" in fields["Depends"] and "systemd" in fields["Depends"]
    listing = run(["dpkg-deb", "--info", str(deb)]).stdout
    for script in ("postinst", "prerm", "postrm", "conffiles"):
        assert script in listing

    contents: Dict[str, List[str]] = {}
    for line in run(["dpkg-deb", "--contents", str(deb)]).stdout.splitlines():
        perms, owner, _size, _date, _time, path = line.split(None, 5)
        contents[path.lstrip(".")] = [perms, owner]
    assert contents["/lib/systemd/system/edge-agent.service"] == ["-rw-r--r--", "root/root"]
    assert contents["/etc/edge-agent/agent.toml"] == ["-rw-r-----", "root/root"]
    assert contents["/usr/share/edge-agent/install.sh"][0] == "-rwxr-xr-x"
    assert f"/usr/share/edge-agent/wheels/{wheel.name}" in contents
    assert "/usr/lib/sysusers.d/edge-agent.conf" in contents
    assert "/usr/share/doc/edge-agent/operations.md" in contents
    assert "/usr/share/edge-agent/constraints-jetpack6.txt" in contents
    assert all(owner == "root/root" for _perms, owner in contents.values())

    control = tmp_path / "control"
    assert run(["dpkg-deb", "--control", str(deb), str(control)]).returncode == 0
    assert (control / "conffiles").read_text(encoding="utf-8").split() == [
        "/etc/edge-agent/agent.toml"
    ]
    assert mode(control / "postinst") & 0o111

    # Unpack into a throwaway root and configure it as dpkg would (DPKG_ROOT).
    root = tmp_path / "root"
    assert run(["dpkg-deb", "--extract", str(deb), str(root)]).returncode == 0
    configured = subprocess.run(
        [str(control / "postinst"), "configure"],
        capture_output=True,
        text=True,
        env={**env(), "DPKG_ROOT": str(root)},
        timeout=240,
        check=False,
    )
    assert configured.returncode == 0, configured.stderr
    check_installed_tree(root)
    removed = subprocess.run(
        [str(control / "postrm"), "purge"],
        capture_output=True,
        text=True,
        env={**env(), "DPKG_ROOT": str(root)},
        timeout=60,
        check=False,
    )
    assert removed.returncode == 0, removed.stderr
    assert not (root / "opt" / "edge-agent").exists()
    assert not (root / "var" / "lib" / "edge-agent").exists()


def test_install_on_a_jetson_applies_the_jetpack_constraints_and_adds_cuda_python(
        tmp_path: Path, wheel: Path) -> None:
    """On a Jetson install.sh passes the constraints to pip and asks for cuda-python. The
    constraints here exclude the wheel itself, so pip's refusal proves they reached it."""
    require_systemd_analyze()
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "nv_tegra_release").write_text("# R36 (release), REVISION: 3.0\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("edge-agent==0.0.1\ncuda-python==12.2.1\n", encoding="utf-8")
    done = subprocess.run(
        [str(INSTALL), "--root", str(root), "--wheel", str(wheel), "--no-enable"],
        capture_output=True, text=True, timeout=240, check=False,
        env=dict(env(), EDGE_AGENT_PIP_ARGS="--no-deps --no-index",
                 EDGE_AGENT_CONSTRAINTS=str(constraints)))
    assert done.returncode == 1
    assert f"pip constraints {constraints}; adding NVIDIA's cuda-python" in done.stderr
    assert f"installing {wheel.name} cuda-python" in done.stderr
    assert f"Cannot install edge-agent {__version__}" in done.stderr  # the constraint applied
    assert "pip could not install" in done.stderr
    shipped = root / "usr" / "share" / "edge-agent"
    assert (shipped / "constraints-jetpack5.txt").is_file()
    assert (shipped / "constraints-jetpack6.txt").is_file()
