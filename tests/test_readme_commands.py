"""Every command the README and docs/operations.md show works as written.

Each `edge-agent` / `edge-fleet` command line in their shell blocks must parse (every option
exists, every value has the right form). The README's safe ones (no root, no network beyond
loopback, quick) run exactly as written — the program path included, from the repository
root, with a PATH that does not contain the virtual environment, the way a new user types
them after the two setup commands — and must exit with a documented code and no traceback.
docs/operations.md's commands run on an installed device (root, systemd): parsed only.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

from edge_agent.cli.main import _build_parser
from edge_agent.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "operations.md"]
# Run for real: quick, local, and their documented exit codes.
SAFE = {
    ("--help",): {0},
    ("config", "check"): {0, int(ExitCode.CONFIG)},  # 78 lists what `run` would refuse
    ("config", "schema"): {0},
    ("models", "list"): {0},
    ("models", "standin"): {0},
    ("plan",): {0},
    ("eval", "poseclass"): {0},
}
DOCUMENTED = {int(code) for code in ExitCode}


def shell_lines(path: Path) -> List[Tuple[str, str]]:
    """(file:line, command) for each edge-agent/edge-fleet command in ```sh blocks."""
    out = []
    in_block = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            in_block = line.strip() in ("```sh", "```bash", "```console") and not in_block
            continue
        if not in_block:
            continue
        command = line.split(" #", 1)[0].strip()
        command = re.sub(r"^(sudo( -u \S+)? )", "", command)
        for part in command.split("&&"):
            part = part.strip()
            words = shlex.split(part) if part else []
            while words and "=" in words[0] and not words[0].startswith("-"):
                words = words[1:]  # VAR=value prefixes
            if words and Path(words[0]).name in ("edge-agent", "edge-fleet"):
                out.append((f"{path.name}:{number}", " ".join(shlex.quote(w) for w in words)))
    return out


COMMANDS = [item for doc in DOCS for item in shell_lines(doc)]


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) >= 8, COMMANDS


@pytest.mark.parametrize("where,command", COMMANDS)
def test_every_documented_command_parses(where: str, command: str) -> None:
    words = shlex.split(command)
    if Path(words[0]).name != "edge-agent":
        return  # edge-fleet: run below (--help) where safe
    try:
        _build_parser().parse_args(words[1:])
    except SystemExit as exit_:
        assert exit_.code == 0, f"{where}: `{command}` does not parse"


@pytest.mark.parametrize("where,command", COMMANDS)
def test_safe_documented_commands_run_as_written(where: str, command: str,
                                                 tmp_path: Path) -> None:
    words = shlex.split(command)
    tool = Path(words[0]).name
    args = words[1:]
    allowed = next((codes for prefix, codes in SAFE.items()
                    if tuple(args[:len(prefix)]) == prefix), None)
    if tool == "edge-fleet":
        allowed = {0} if args == ["--help"] else None
    if allowed is None:
        return  # parsed above; needs root, a device, a broker or the network
    if not where.startswith("README"):
        return
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p != venv_bin)
    env = {**os.environ, "PATH": path, "EDGE_AGENT_MODELS__DIR": str(tmp_path / "models")}
    try:
        result = subprocess.run(words, cwd=str(ROOT), capture_output=True, text=True,
                                timeout=300, env=env, check=False)
    except FileNotFoundError:
        pytest.fail(f"{where}: `{words[0]}` is not found when typed from the repository root")
    output = result.stdout + result.stderr
    assert result.returncode in allowed and result.returncode in DOCUMENTED, (
        f"{where}: `{command}` exited {result.returncode}\n{output[-2000:]}")
    assert "Traceback" not in output, f"{where}: `{command}`\n{output[-2000:]}"
