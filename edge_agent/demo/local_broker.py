"""Start a private Mosquitto on a free loopback port, for the demo and the benchmarks.

Never the shared 1883: a demo must not disturb, or be disturbed by, whatever else runs on
the machine. Mosquitto started as root drops to user `nobody` and then cannot write into a
root-owned temporary folder, so the config says `user root` when we are root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Optional

from edge_agent.errors import ServiceUnavailableError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LocalBroker:
    """A mosquitto child process bound to 127.0.0.1 on a free port."""

    def __init__(self, workdir: Path, port: int = 0) -> None:
        self._workdir = workdir
        self.port = port
        self._process: Optional[subprocess.Popen[bytes]] = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Launch mosquitto and wait until it accepts connections."""
        binary = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        if binary is None:
            raise ServiceUnavailableError(
                "no MQTT broker given and `mosquitto` is not installed",
                "install it (sudo apt-get install mosquitto) or pass --broker HOST:PORT",
            )
        self._workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        config = self._workdir / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            f"log_dest file {self._workdir / 'mosquitto.log'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            lines.append("user root")
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [binary, "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceUnavailableError(
                    f"mosquitto exited with code {self._process.returncode} at start",
                    f"see {self._workdir / 'mosquitto.log'}",
                )
            if _port_open(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise ServiceUnavailableError(
            f"mosquitto did not listen on port {self.port} within {timeout_s:.0f} s",
            f"see {self._workdir / 'mosquitto.log'}",
        )

    def stop(self) -> None:
        """Terminate the broker and reap it."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None
