"""Disks that fill up, for real: a small tmpfs where this process may mount one, and always
RLIMIT_FSIZE in a child process (no LD_PRELOAD, no fake file system).

``FAULT_KINDS`` lists what this machine can do, found at import: 'rlimit' always; 'tmpfs'
when a tmpfs can be mounted (root, mount namespace allowing it). Tests parametrise over it,
so the RLIMIT_FSIZE variant always runs and the tmpfs one is added, never skipped silently.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

TESTS = Path(__file__).resolve().parent
_TMPFS_BYTES = 4 * 1024 * 1024
OUTBOX_MAX_BYTES = 2 * 1024 * 1024
"""The outbox bound in these tests: it fits in the tmpfs, as the start-up check asks."""


def _can_mount_tmpfs() -> bool:
    if os.geteuid() != 0:
        return False
    with tempfile.TemporaryDirectory() as probe:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe],
            capture_output=True,
            check=False,
        )
        if mounted.returncode != 0:
            return False
        subprocess.run(["umount", probe], capture_output=True, check=False)
        return True


FAULT_KINDS: List[str] = ["rlimit"] + (["tmpfs"] if _can_mount_tmpfs() else [])


class StorageChild:
    """storage_child.py as a process; ``ask`` sends one command and returns its JSON answer."""

    def __init__(self, port: int, outbox_path: Path, limit_bytes: Optional[int] = None) -> None:
        args = [sys.executable, str(TESTS / "storage_child.py"), str(port), str(outbox_path)]
        args += ["none" if limit_bytes is None else str(limit_bytes), str(OUTBOX_MAX_BYTES)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS.parent)]))
        # stderr through a pipe, never a file: RLIMIT_FSIZE would cut a log file at the limit
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._log: List[bytes] = []
        self._log_thread = threading.Thread(target=self._collect, daemon=True)
        self._log_thread.start()
        assert self._read(30.0) == {"started": True}, self.log()

    def ask(self, command: str, timeout_s: float = 30.0) -> Dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()
        return self._read(timeout_s)

    def _read(self, timeout_s: float) -> Dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            code = self.process.poll()
            raise AssertionError(f"no answer from the child (rc={code}):\n{self.log()}")
        answer: Dict[str, Any] = json.loads(line)
        return answer

    def wait_stats(self, predicate: Any, timeout_s: float, what: str) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            stats = self.ask("stats")
            if predicate(stats):
                return stats
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {stats}\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> int:
        """'stop', then the exit code."""
        if self.process.poll() is None:
            try:
                self.ask("stop", 15.0)
            except AssertionError:
                self.process.kill()
        code = self.process.wait(15.0)
        self._log_thread.join(5.0)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        return code

    def _collect(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        for line in iter(stream.readline, b""):
            self._log.append(line)

    def log(self) -> str:
        return b"".join(self._log).decode(errors="replace")


class DiskFault:
    """Where the outbox lives and how to make its disk full and free again."""

    def __init__(self, kind: str, root: Path) -> None:
        self.kind = kind
        self.root = root
        self._filler: Optional[Path] = None
        if kind == "tmpfs":
            mount_point = root / "tmpfs"
            mount_point.mkdir(parents=True)
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={_TMPFS_BYTES}", "tmpfs", str(mount_point)],
                check=True,
                capture_output=True,
            )
            self.directory = mount_point / "state"
        else:
            self.directory = root / "state"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.outbox_path = self.directory / "outbox.sqlite"

    def start_child(self, port: int, full: bool = False) -> StorageChild:
        """A child publisher on this outbox; ``full``: the disk is already full at start."""
        if full:
            if self.kind == "rlimit":
                return StorageChild(port, self.outbox_path, limit_bytes=1)
            self.fill(None)
        return StorageChild(port, self.outbox_path)

    def fill(self, child: Optional[StorageChild]) -> None:
        """No more bytes can be written."""
        if self.kind == "rlimit":
            assert child is not None
            child.ask("limit 1")
            return
        self._filler = self.directory.parent / "filler"
        with self._filler.open("wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
            except OSError:
                pass
        _fill_inodes_and_blocks(self.directory.parent)

    def free(self, child: Optional[StorageChild]) -> None:
        """Space returns."""
        if self.kind == "rlimit":
            assert child is not None
            child.ask("unlimit")
            return
        if self._filler is not None:
            self._filler.unlink()
            for extra in self.directory.parent.glob("filler-*"):
                extra.unlink()
            self._filler = None

    def close(self) -> None:
        if self.kind == "tmpfs":
            mount_point = str(self.root / "tmpfs")
            subprocess.run(["umount", "-l", mount_point], capture_output=True, check=False)


def _fill_inodes_and_blocks(folder: Path) -> None:
    """Top up the last partial blocks with small files, so even tiny writes fail."""
    for n in range(10_000):
        try:
            (folder / f"filler-{n}").write_bytes(b"\0" * 512)
        except OSError:
            return
