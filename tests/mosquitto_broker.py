"""A real mosquitto broker per test, on a free loopback port, with its files in tmp_path.

Why a real broker: the behaviours the publisher must survive (retained messages, wills, QoS 1
re-sends after an outage, refused logins, MQTT 5 PUBACK reason codes) are broker behaviours;
a fake would only restate our assumptions. Never the shared broker on 1883.

Mosquitto started as root drops privileges to 'nobody' and then silently fails to write its
persistence file in a root-owned temp dir (docs/reliability.md 0.6), so the config says
``user root`` when the tests run as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Optional, Sequence

from edge_agent.demo.local_broker import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0

__all__ = ["MosquittoBroker", "free_port"]


class MosquittoBroker:
    """One mosquitto process; the port stays the same across restart()."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        users: Optional[Dict[str, str]] = None,
        acl_lines: Sequence[str] = (),
    ) -> None:
        """``users`` turns anonymous access off and creates a password file;
        ``acl_lines`` are written verbatim to an acl_file (lines before any 'user' apply to
        anonymous clients)."""
        self._dir = tmp_path / "mosquitto"
        self._users = dict(users or {})
        self._acl_lines = list(acl_lines)
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._frozen = False
        self.port = free_port()

    @property
    def log_path(self) -> Path:
        """The broker's log, for failure messages."""
        return self._dir / "mosquitto.log"

    def _write_config(self) -> Path:
        self._dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self._users else 'true'}",
            "persistence true",
            f"persistence_location {self._dir}/",
            "log_type all",
        ]
        if os.geteuid() == 0:
            lines.append("user root")
        if self._users:
            password_file = self._dir / "passwords"
            password_file.write_text("")
            for user, password in self._users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", str(password_file), user, password],
                    check=True,
                    capture_output=True,
                )
            lines.append(f"password_file {password_file}")
        if self._acl_lines:
            acl_file = self._dir / "acl"
            acl_file.write_text("\n".join(self._acl_lines) + "\n")
            lines.append(f"acl_file {acl_file}")
        config = self._dir / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self) -> None:
        """Start mosquitto and wait until its port accepts connections."""
        if self._process is not None:
            raise RuntimeError("broker already running")
        config = self._write_config()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [MOSQUITTO, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RuntimeError(f"mosquitto exited with {code}:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port}:\n{self.log_text()}")

    def stop(self) -> None:
        """Terminate mosquitto (it saves its persistence file on the way out)."""
        process, self._process = self._process, None
        if process is None:
            return
        if self._frozen:
            process.send_signal(signal.SIGCONT)
            self._frozen = False
        process.terminate()
        try:
            process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port; connected clients lose their connection."""
        self.stop()
        self.start()

    def freeze(self) -> None:
        """SIGSTOP: the broker keeps its sockets open but answers nothing (a hung broker)."""
        if self._process is None:
            raise RuntimeError("broker not running")
        self._process.send_signal(signal.SIGSTOP)
        self._frozen = True

    def thaw(self) -> None:
        """SIGCONT after freeze()."""
        if self._process is not None and self._frozen:
            self._process.send_signal(signal.SIGCONT)
        self._frozen = False

    def log_text(self) -> str:
        """The broker's log so far ('' if none)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
