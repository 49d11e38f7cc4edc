"""Power-mode requests across the privilege boundary: parsing, validation, the root helper.

The helper runs for real (as a subprocess, with python -I as the unit runs it) against
files in a temporary tree; only `nvpmodel` itself is replaced by a FAKE shell script, since
it is the hardware edge (it writes Jetson sysfs clocks).
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.cli.main import main
from edge_agent.device.nvpmodel import parse_nvpmodel_conf, parse_nvpmodel_verbose
from edge_agent.errors import ExitCode
from edge_agent.powermode.apply import apply_request
from edge_agent.powermode.request import read_result, write_request
from edge_agent.powermode.validate import (
    PowerModeRequestError,
    load_table,
    parse_request,
    resolve_mode,
    validate_mode,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NANO_CONF = FIXTURES / "power_mode" / "nano_nvpmodel.conf"
SUPER_CONF = FIXTURES / "power_mode" / "orin_nano_super_nvpmodel.conf"
NANO_VERBOSE = FIXTURES / "jetson" / "nvpmodel-parse" / "nano__nvpmodel_-p_--verbose.txt"
ROOT = Path(__file__).resolve().parents[1]


def test_synthetic_conf_matches_the_real_capture() -> None:
    """The Nano conf fixture says what the real `nvpmodel -p --verbose` capture says."""
    conf = parse_nvpmodel_conf(NANO_CONF.read_text(encoding="utf-8"))
    real = parse_nvpmodel_verbose(NANO_VERBOSE.read_text(encoding="utf-8"))
    assert {i: m.name for i, m in conf.modes.items()} == {i: m.name for i, m in real.modes.items()}
    assert conf.default_id == real.default_id == 0


def test_quirky_grammar_parses() -> None:
    table = load_table(SUPER_CONF.read_text(encoding="utf-8"))
    assert {i: m.name for i, m in table.modes.items()} == {
        0: "15W",
        1: "25W",
        2: "MAXN_SUPER",
        3: "7W",
    }
    assert table.default_id == 2
    assert table.modes[2].uncapped  # MAXN is not ID 0 here


@pytest.mark.parametrize(
    "raw, expected", [(b"0", 0), (b"2\n", 2), (b"0003", 3), (b"15\n", 15), (b"9999", 9999)]
)
def test_parse_request_accepts_plain_ids(raw: bytes, expected: int) -> None:
    assert parse_request(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\n",
        b"-1",
        b"+2",
        b" 2",
        b"2 ",
        b"2\n\n",
        b"2;reboot",
        b"$(id)",
        b"0x2",
        b"1e3",
        b"2.0",
        b"MAXN",
        "\u0662".encode(),  # an Arabic-Indic digit two: str.isdigit() would accept it
        b"12345",
        b"1" * 17,
        b"2\x00",
    ],
)
def test_parse_request_refuses_anything_else(raw: bytes) -> None:
    with pytest.raises(PowerModeRequestError):
        parse_request(raw)


def test_validate_only_ids_in_the_table() -> None:
    table = load_table(NANO_CONF.read_text(encoding="utf-8"))
    assert validate_mode(1, table).name == "5W"
    with pytest.raises(PowerModeRequestError, match=r"0 \(MAXN\), 1 \(5W\)"):
        validate_mode(2, table)
    assert resolve_mode("maxn", table).id == 0
    assert resolve_mode(" 1 ", table).id == 1
    with pytest.raises(PowerModeRequestError):
        resolve_mode("MODE_15W", table)


def test_conf_without_modes_is_refused() -> None:
    with pytest.raises(PowerModeRequestError):
        load_table("< PARAM TYPE=FILE NAME=CPU_ONLINE >\n< PM_CONFIG DEFAULT=0 >\n")


def fake_nvpmodel(tmp_path: Path, exit_code: int = 0, output: str = "",
                  status_id: str = "$2") -> Path:
    """FAKE nvpmodel: records its arguments and, like the real one, writes the new mode to
    its status file (pmode:000N) instead of writing Jetson clocks."""
    script = tmp_path / "nvpmodel"
    script.write_text(
        "#!/bin/sh\n# FAKE nvpmodel for tests: records arguments, touches no hardware\n"
        f'echo "$@" >> "{tmp_path}/nvpmodel.calls"\necho "NVPM: set $2"\n'
        + (f"printf '%s\\n' '{output}'\n" if output else "")
        + f'printf "pmode:%04d fmode:quiet\\n" {status_id} > "{tmp_path}/nvpmodel.status"\n'
        f"exit {exit_code}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def run_helper(tmp_path: Path, conf: Path, nvpmodel: Path) -> subprocess.CompletedProcess[str]:
    """The helper exactly as the unit runs it: python -I -m edge_agent.powermode.apply."""
    return subprocess.run(
        [
            sys.executable,
            "-I",
            "-m",
            "edge_agent.powermode.apply",
            "--request-dir",
            str(tmp_path / "req"),
            "--conf",
            str(conf),
            "--result-dir",
            str(tmp_path / "result"),
            "--nvpmodel",
            str(nvpmodel),
            "--status-file",
            str(tmp_path / "nvpmodel.status"),
        ],
        capture_output=True,
        text=True,
        cwd=str(ROOT),  # -I ignores the cwd, so the package must come from the install
        timeout=60,
        check=False,
    )


def test_helper_applies_a_valid_request(tmp_path: Path) -> None:
    nvpmodel = fake_nvpmodel(tmp_path)
    table = load_table(NANO_CONF.read_text(encoding="utf-8"))
    write_request(tmp_path / "req", "5W", table)
    assert (tmp_path / "req" / "request").read_bytes() == b"1\n"
    done = run_helper(tmp_path, NANO_CONF, nvpmodel)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "nvpmodel.calls").read_text(encoding="utf-8") == "-m 1\n"
    result = read_result(tmp_path / "result")
    assert result is not None and result.applied and result.mode_id == 1
    mode = stat.S_IMODE((tmp_path / "result" / "result.json").stat().st_mode)
    assert mode == 0o644


def test_helper_refuses_an_id_the_device_lacks(tmp_path: Path) -> None:
    nvpmodel = fake_nvpmodel(tmp_path)
    (tmp_path / "req").mkdir()
    (tmp_path / "req" / "request").write_bytes(b"7\n")
    done = run_helper(tmp_path, NANO_CONF, nvpmodel)
    assert done.returncode == ExitCode.DATA
    assert not (tmp_path / "nvpmodel.calls").exists()
    result = read_result(tmp_path / "result")
    assert result is not None and not result.applied and "not in this device" in result.error


def test_helper_refuses_symlinked_requests(tmp_path: Path) -> None:
    nvpmodel = fake_nvpmodel(tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("1\n", encoding="utf-8")
    (tmp_path / "req").mkdir()
    (tmp_path / "req" / "request").symlink_to(secret)
    assert apply_request(tmp_path / "req", NANO_CONF, tmp_path / "result", str(nvpmodel)) == 65
    (tmp_path / "req" / "request").unlink()
    (tmp_path / "req").rmdir()
    real_dir = tmp_path / "elsewhere"
    real_dir.mkdir()
    (real_dir / "request").write_text("1\n", encoding="utf-8")
    (tmp_path / "req").symlink_to(real_dir)  # the directory itself is a symlink
    assert apply_request(tmp_path / "req", NANO_CONF, tmp_path / "result", str(nvpmodel)) == 65
    assert not (tmp_path / "nvpmodel.calls").exists()


def test_helper_reports_nvpmodel_failure_and_missing_inputs(tmp_path: Path) -> None:
    failing = fake_nvpmodel(tmp_path, exit_code=3)
    (tmp_path / "req").mkdir()
    (tmp_path / "req" / "request").write_bytes(b"0")
    code = apply_request(tmp_path / "req", NANO_CONF, tmp_path / "result", str(failing))
    assert code == ExitCode.UNAVAILABLE
    result = json.loads((tmp_path / "result" / "result.json").read_text(encoding="utf-8"))
    assert result["nvpmodel_exit"] == 3 and result["applied"] is False
    missing_conf = tmp_path / "no.conf"
    code = apply_request(tmp_path / "req", missing_conf, tmp_path / "result", str(failing))
    assert code == ExitCode.NO_INPUT
    (tmp_path / "req" / "request").unlink()
    assert apply_request(tmp_path / "req", NANO_CONF, tmp_path / "result", str(failing)) == 66
    absent = str(tmp_path / "not-there" / "nvpmodel")
    (tmp_path / "req" / "request").write_bytes(b"0")
    assert apply_request(tmp_path / "req", NANO_CONF, tmp_path / "result", absent) == 69


def test_cli_lists_and_requests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["power-mode", "--conf", str(SUPER_CONF), "--request-dir", str(tmp_path / "req")]
    assert main([*common, "list"]) == 0
    out = capsys.readouterr().out
    assert "  2  MAXN_SUPER  (default)" in out
    assert main([*common, "request", "7W"]) == 0
    assert (tmp_path / "req" / "request").read_text(encoding="ascii") == "3\n"
    assert main([*common, "request", "MAXN"]) == ExitCode.CONFIG
    assert "no power mode named 'MAXN'" in capsys.readouterr().err
    assert main(["power-mode", "--conf", str(tmp_path / "none.conf"), "list"]) == 66


@pytest.mark.parametrize("output,status_id,why", [
    ("NVPM ERROR: request for bad power mode 1", "$2", "nvpmodel reported: NVPM ERROR"),
    ("NVPM WARN: Reboot required for changing to this power mode: 1", "0", "needs a reboot"),
    ("", "0", "says mode 0 after the change, not 1"),
])
def test_helper_trusts_output_and_status_file_not_the_exit_code(
        tmp_path: Path, output: str, status_id: str, why: str) -> None:
    nvpmodel = fake_nvpmodel(tmp_path, output=output, status_id=status_id)  # exits 0
    write_request(tmp_path / "req", "5W", load_table(NANO_CONF.read_text(encoding="utf-8")))
    code = apply_request(tmp_path / "req", NANO_CONF, tmp_path / "result", str(nvpmodel),
                         status_path=tmp_path / "nvpmodel.status")
    assert code == 69
    result = read_result(tmp_path / "result")
    assert result is not None and not result.applied and why in (result.error or "")
