"""No import cycle between the packages of edge_agent (scripts/check_import_cycles.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_import_cycles.py"


def run(package: Path) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, str(SCRIPT), str(package)], capture_output=True,
                          text=True, timeout=60, check=False)


def test_edge_agent_packages_have_no_import_cycle() -> None:
    result = run(SCRIPT.parent.parent / "edge_agent")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_checker_finds_a_cycle_and_names_the_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    for name, body in {"a/__init__.py": "", "a/x.py": "from pkg.b.y import f\n",
                       "b/__init__.py": "", "b/y.py": "def f():\n    from pkg.a import x\n",
                       "c/__init__.py": "", "c/z.py": "import pkg.a.x\n",
                       "__init__.py": ""}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(body, encoding="utf-8")
    result = run(package)
    assert result.returncode == 1
    assert "import cycle between packages: a, b" in result.stdout
    assert "a -> b: pkg.a.x imports pkg.b.y" in result.stdout
    assert "c" not in result.stdout.split("cycle between packages:")[1].split("\n")[0]
