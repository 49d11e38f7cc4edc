"""Selftest, service part: `edge-agent run` under a notify socket, as systemd starts it.

systemd hands a Type=notify service NOTIFY_SOCKET (an AF_UNIX datagram socket) and, with
WatchdogSec=, WATCHDOG_USEC; the service must send READY=1 once ready, WATCHDOG=1 more often
than the timeout, and STOPPING=1 when it stops (sd_notify(3)). This binds such a socket,
starts the agent as a child with both variables, and checks what arrives.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Tuple

from edge_agent.selftest.report import FAIL, PASS, Line


class NotifyListener:
    """Receives sd_notify datagrams on a thread, with their arrival times."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "notify.sock"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.2)
        self.messages: List[Tuple[float, List[str]]] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="selftest-notify", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = data.decode("utf-8", "replace").splitlines()
            self.messages.append((time.monotonic(), fields))

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        self._sock.close()


def judge(messages: List[Tuple[float, List[str]]], returncode: int, watchdog_s: float,
          output_tail: str) -> List[Line]:
    """READY=1 before STOPPING=1 and exit 0; WATCHDOG=1 pings never further apart than the
    timeout (systemd would kill the service otherwise)."""
    def first(field: str) -> float:
        return next((at for at, fields in messages if field in fields), -1.0)

    ready, stopping = first("READY=1"), first("STOPPING=1")
    ok = ready >= 0 and stopping > ready and returncode == 0
    detail = (f"READY=1 {'received' if ready >= 0 else 'MISSING'}, STOPPING=1 "
              f"{'received' if stopping >= 0 else 'MISSING'}, exit code {returncode}")
    lines = [Line("systemd notify", PASS if ok else FAIL,
                  detail + ("" if ok else f"; output: {output_tail}"))]
    pings = [at for at, fields in messages if "WATCHDOG=1" in fields and at >= ready >= 0]
    gaps = [b - a for a, b in zip([ready] + pings, pings)]
    if len(pings) < 2:
        lines.append(Line("watchdog", FAIL, f"{len(pings)} WATCHDOG=1 ping(s) after READY=1"))
    else:
        worst = max(gaps)
        lines.append(Line("watchdog", PASS if worst < watchdog_s else FAIL,
                          f"{len(pings)} pings, largest gap {worst:.1f} s (timeout "
                          f"{watchdog_s:g} s)"))
    return lines


def notify_lines(config_path: Path, duration_s: float, watchdog_s: float = 4.0) -> List[Line]:
    """Run `edge-agent run --config FILE --duration-s N` under a notify socket and judge it."""
    with tempfile.TemporaryDirectory(prefix="edge-agent-selftest-") as directory:
        listener = NotifyListener(Path(directory))
        env = dict(os.environ, NOTIFY_SOCKET=str(listener.path),
                   WATCHDOG_USEC=str(int(watchdog_s * 1e6)))
        env.pop("WATCHDOG_PID", None)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "edge_agent", "run", "--config", str(config_path),
                 "--duration-s", f"{duration_s:g}"],
                env=env, capture_output=True, text=True, timeout=duration_s + 300, check=False)
        finally:
            listener.close()
    tail = (done.stderr or done.stdout)[-400:]
    return judge(listener.messages, done.returncode, watchdog_s, tail)
