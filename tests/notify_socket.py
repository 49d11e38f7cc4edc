"""A test-owned NOTIFY_SOCKET: the receiving end of sd_notify, as systemd's manager has it.

Binds a real AF_UNIX datagram socket (a path, or the abstract namespace for '@' names) and
records every message with its arrival time, so tests can check the order of READY=1,
RELOADING=1, STOPPING=1 and the spacing of WATCHDOG=1 pings.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional


@dataclass(frozen=True)
class Notification:
    """One datagram: its fields and when it arrived (monotonic seconds)."""

    at_s: float
    fields: List[str]

    def has(self, field: str) -> bool:
        return field in self.fields

    def status(self) -> Optional[str]:
        for item in self.fields:
            if item.startswith("STATUS="):
                return item[len("STATUS=") :]
        return None


class NotifyListener:
    """Collects sd_notify datagrams on a thread until closed."""

    def __init__(self, directory: Optional[Path] = None, abstract: bool = False) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"edge-agent-test-{os.getpid()}-{id(self)}"
            self._sock.bind("\0" + name)
            self.address = "@" + name
        else:
            if directory is None:
                raise ValueError("a path socket needs a directory")
            path = directory / "notify.sock"
            self._sock.bind(str(path))
            self.address = str(path)
        self._sock.settimeout(0.1)
        self._lock = threading.Lock()
        self._messages: List[Notification] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            note = Notification(time.monotonic(), data.decode("utf-8").split("\n"))
            with self._lock:
                self._messages.append(note)

    @property
    def messages(self) -> List[Notification]:
        with self._lock:
            return list(self._messages)

    def pings(self) -> List[float]:
        return [m.at_s for m in self.messages if m.has("WATCHDOG=1")]

    def wait_for(
        self, predicate: Callable[[Notification], bool], timeout_s: float, after_s: float = 0.0
    ) -> Notification:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for message in self.messages:
                if message.at_s >= after_s and predicate(message):
                    return message
            time.sleep(0.02)
        raise AssertionError(
            f"no matching notification in {timeout_s} s; got {[m.fields for m in self.messages]}"
        )

    def close(self) -> None:
        self._closed.set()
        self._thread.join(2.0)
        self._sock.close()
