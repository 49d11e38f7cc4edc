"""Run an engine build in a child process that can be ended at once, progress passed back.

TensorRT 8.x has no IProgressMonitor, so a build on a thread cannot be interrupted: stopping
the agent waited minutes for it until systemd killed the whole service at TimeoutStopSec. A
child process (multiprocessing "spawn": a fresh interpreter, no CUDA state inherited from the
agent) can be terminated the moment `cancel` is set, and a build that exhausts memory on a
4 GB Nano takes only the child down. The child sends ("progress", line) messages and finally
("result", value) or ("error", text) over a pipe; the parent polls it, watching `cancel`.
"""

from __future__ import annotations

import importlib
import multiprocessing
import threading
from typing import Any, Callable, Dict

Progress = Callable[[str], None]
POLL_S = 0.1
TERMINATE_GRACE_S = 2.0


class BuildCancelled(RuntimeError):
    """The build was cancelled and its process ended."""


def _resolve(entry: str) -> Callable[..., Any]:
    module_name, _, function = entry.partition(":")
    target: Callable[..., Any] = getattr(importlib.import_module(module_name), function)
    return target


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this child when the agent dies without stopping it (a SIGKILL from
    systemd at TimeoutStopSec, the OOM killer): prctl(PR_SET_PDEATHSIG), prctl(2). Best effort:
    elsewhere the child simply outlives the parent until its build ends."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child_main(entry: str, payload: Dict[str, Any], conn: Any) -> None:
    """Child side: call `entry(payload, progress)` and send its result or its error."""
    _die_with_parent()
    try:
        def progress(line: str) -> None:
            conn.send(("progress", str(line)))

        result = _resolve(entry)(payload, progress)
        conn.send(("result", result))
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _end(process: Any) -> None:
    """SIGTERM, then SIGKILL after a short grace; reaps the child."""
    if process.is_alive():
        process.terminate()
        process.join(TERMINATE_GRACE_S)
    if process.is_alive():
        process.kill()
        process.join(TERMINATE_GRACE_S)


def describe_exit(exitcode: Any) -> str:
    """A sentence for a child that died without answering."""
    if isinstance(exitcode, int) and exitcode < 0:
        hint = " (SIGKILL: most likely the kernel's out-of-memory killer)" if exitcode == -9 else ""
        return f"the build process was killed by signal {-exitcode}{hint}"
    return f"the build process exited with code {exitcode} without a result"


def run_in_child(entry: str, payload: Dict[str, Any], progress: Progress,
                 cancel: threading.Event) -> Any:
    """`entry(payload, progress)` in a child; BuildCancelled at once when `cancel` is set."""
    context = multiprocessing.get_context("spawn")
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(entry, payload, writer),
                              name="edge-agent-engine-build", daemon=True)
    process.start()
    writer.close()  # the child holds the only writer: EOF when it exits
    try:
        while True:
            if cancel.is_set():
                _end(process)
                raise BuildCancelled("cancelled")
            if not reader.poll(POLL_S):
                if not process.is_alive() and not reader.poll(0):
                    process.join()
                    raise RuntimeError(describe_exit(process.exitcode))
                continue
            try:
                kind, value = reader.recv()
            except EOFError:
                process.join()
                raise RuntimeError(describe_exit(process.exitcode)) from None
            if kind == "progress":
                progress(value)
            elif kind == "result":
                process.join(TERMINATE_GRACE_S)
                return value
            else:
                raise RuntimeError(str(value))
    finally:
        _end(process)
        reader.close()
