"""The privileged helper: apply one validated power-mode request, then record the outcome.

Run as root by edge-agent-power-mode.service (path-activated when the agent writes its
request file): `python -I -m edge_agent.powermode.apply`. It opens the request without
following symlinks and reads at most a few bytes, validates the ID against
/etc/nvpmodel.conf, runs `nvpmodel -m ID` (the only thin edge to the hardware), and writes
result.json atomically into its own root-owned state directory, which the agent may read.
Exit codes follow edge_agent.errors.ExitCode: 0 applied, 65 refused request, 66 no conf or
no request, 69 nvpmodel missing or failed.

nvpmodel's exit code is not enough: it prints `NVPM ERROR: ...` and may still exit 0, and a
mode that needs a reboot prints `NVPM WARN: Reboot required for changing to this power mode`
and, with stdin closed, does not switch. jetson_stats refuses a change whose output holds
"NVPM ERROR" (rbonghi/jetson_stats jtop/core/nvpmodel.py, set_mode), and so does this helper;
then it re-reads /var/lib/nvpmodel/status (`pmode:0002 ...`) and calls the change applied only
when that file names the requested ID.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from edge_agent.device.nvpmodel import parse_status_file
from edge_agent.errors import ExitCode
from edge_agent.powermode import (
    CONF_PATH,
    NVPMODEL_PATH,
    REQUEST_DIR,
    REQUEST_NAME,
    RESULT_DIR,
    RESULT_NAME,
    STATUS_PATH,
)
from edge_agent.powermode.validate import (
    MAX_REQUEST_BYTES,
    PowerModeRequestError,
    load_table,
    parse_request,
    validate_mode,
)

NVPMODEL_TIMEOUT_S = 60.0

NvpmodelRunner = Callable[[str, int], Tuple[int, str]]


def run_nvpmodel(binary: str, mode_id: int) -> Tuple[int, str]:
    """`nvpmodel -m ID`; (exit code, combined output). No shell, stdin closed."""
    try:
        done = subprocess.run(
            [binary, "-m", str(mode_id)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=NVPMODEL_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        return 127, f"{binary} not found"
    except (OSError, subprocess.SubprocessError) as err:
        return 126, str(err)
    return done.returncode, done.stdout.decode("utf-8", "replace")[-2000:]


def read_request(directory: Path, name: str) -> bytes:
    """The request's first bytes; refuses symlinks (directory or file) and non-regular files."""
    dir_fd = os.open(str(directory), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PowerModeRequestError("request is not a regular file")
        return os.read(fd, MAX_REQUEST_BYTES + 1)
    finally:
        os.close(fd)


def write_result(directory: Path, result: Dict[str, object]) -> None:
    """result.json via a temporary file and rename, world-readable (0644), never partial."""
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    target = directory / RESULT_NAME
    temporary = directory / f".{RESULT_NAME}.{os.getpid()}"
    fd = os.open(str(temporary), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(result, handle, sort_keys=True)
        handle.write("\n")
    temporary.chmod(0o644)  # whatever the umask, the agent must be able to read it
    temporary.replace(target)


def judge_output(output: str) -> str:
    """Why nvpmodel's output shows the change did not happen ('' when it shows no problem)."""
    lines = [line.strip() for line in output.splitlines()]
    if any("reboot required" in line.lower() for line in lines):
        return "this mode needs a reboot; nvpmodel did not switch (change it by hand and reboot)"
    errors = [line for line in lines if "NVPM ERROR" in line]
    return f"nvpmodel reported: {'; '.join(errors)}" if errors else ""


def confirm_status(status_path: Path, mode_id: int) -> str:
    """Why the status file contradicts the change ('' when it confirms it)."""
    try:
        text = status_path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        return f"cannot re-read {status_path} to confirm: {err.strerror}"
    current = parse_status_file(text)
    if current != mode_id:
        return f"{status_path} says mode {current} after the change, not {mode_id}"
    return ""


def apply_request(
    request_dir: Path,
    conf_path: Path,
    result_dir: Path,
    nvpmodel: str = NVPMODEL_PATH,
    runner: NvpmodelRunner = run_nvpmodel,
    status_path: Path = Path(STATUS_PATH),
) -> int:
    """Validate and apply the pending request; returns the exit code and writes result.json."""
    result: Dict[str, object] = {"at_s": time.time(), "applied": False}
    code = ExitCode.OK
    try:
        try:
            conf_text = conf_path.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            code = ExitCode.NO_INPUT
            raise PowerModeRequestError(f"cannot read {conf_path}: {err.strerror}") from None
        try:
            raw = read_request(request_dir, REQUEST_NAME)
        except FileNotFoundError:
            code = ExitCode.NO_INPUT
            raise PowerModeRequestError("no pending request") from None
        except OSError as err:
            code = ExitCode.DATA
            raise PowerModeRequestError(f"request cannot be opened safely: {err}") from None
        code = ExitCode.DATA
        mode = validate_mode(parse_request(raw), load_table(conf_text))
        result.update({"mode_id": mode.id, "mode_name": mode.name})
        returncode, output = runner(nvpmodel, mode.id)
        result.update({"nvpmodel_exit": returncode, "output": output.strip()})
        if returncode != 0:
            code = ExitCode.UNAVAILABLE
            raise PowerModeRequestError(f"nvpmodel -m {mode.id} exited {returncode}")
        problem = judge_output(output) or confirm_status(status_path, mode.id)
        if problem:
            code = ExitCode.UNAVAILABLE
            raise PowerModeRequestError(problem)
        result["applied"] = True
        code = ExitCode.OK
    except PowerModeRequestError as err:
        result["error"] = str(err)
    write_result(result_dir, result)
    stream = sys.stderr if result.get("error") else sys.stdout
    print(json.dumps(result, sort_keys=True), file=stream)
    return int(code)


def main(argv: Optional[List[str]] = None) -> int:
    """Command line of the helper (see the unit file for the arguments it runs with)."""
    parser = argparse.ArgumentParser(prog="edge-agent-power-mode-apply", description=__doc__)
    parser.add_argument("--request-dir", type=Path, default=Path(REQUEST_DIR))
    parser.add_argument("--conf", type=Path, default=Path(CONF_PATH))
    parser.add_argument("--result-dir", type=Path, default=Path(RESULT_DIR))
    parser.add_argument("--nvpmodel", default=NVPMODEL_PATH)
    parser.add_argument("--status-file", type=Path, default=Path(STATUS_PATH))
    args = parser.parse_args(argv)
    return apply_request(args.request_dir, args.conf, args.result_dir, args.nvpmodel,
                         status_path=args.status_file)


if __name__ == "__main__":
    raise SystemExit(main())
