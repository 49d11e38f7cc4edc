"""A tiny TCP proxy for fault tests: forwards 127.0.0.1:port to a target, and can cut.

Why our own: tc netem and iptables are not available on CI (docs/reliability.md section 4),
and Toxiproxy's server is not packaged. ``cut()`` resets every open connection and refuses
new ones until ``restore()``, which is what a dropped uplink looks like to the agent.
"""

from __future__ import annotations

import select
import socket
import threading
from typing import List, Optional, Tuple


class FaultProxy:
    """One listening socket and a thread that pumps bytes both ways."""

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self._pairs: List[Tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._up = True
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def cut(self) -> None:
        """Reset all connections; refuse new ones until restore()."""
        with self._lock:
            self._up = False
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for sock in (a, b):
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                sock.close()

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self.cut()
        self._listener.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                socks = [s for pair in self._pairs for s in pair]
            try:
                readable, _, _ = select.select([self._listener, *socks], [], [], 0.05)
            except (OSError, ValueError):
                continue
            for sock in readable:
                if sock is self._listener:
                    self._accept()
                else:
                    self._forward(sock)

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        with self._lock:
            up = self._up
        if not up:
            client.close()
            return
        try:
            upstream = socket.create_connection(self._target, timeout=2.0)
        except OSError:
            client.close()
            return
        with self._lock:
            self._pairs.append((client, upstream))

    def _forward(self, sock: socket.socket) -> None:
        with self._lock:
            pair = next((p for p in self._pairs if sock in p), None)
        if pair is None:
            return
        other = pair[1] if sock is pair[0] else pair[0]
        try:
            data = sock.recv(65536)
            if data:
                other.sendall(data)
                return
        except OSError:
            pass
        with self._lock:
            if pair in self._pairs:
                self._pairs.remove(pair)
        pair[0].close()
        pair[1].close()
