"""A worker thread that keeps dying inside a running agent: restarted, then given up on, the
systemd watchdog stops and the status says which worker failed.

Real agent, real stand-in model, real mosquitto, a test-owned NOTIFY_SOCKET; the one injected
fault makes the CPU executor's batch choice raise, as a bug there would.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Iterator, NoReturn

import pytest
from mosquitto_broker import MosquittoBroker
from notify_socket import NotifyListener
from test_service_runner import write_config

from edge_agent.agent.daemon import Agent
from edge_agent.agent.runner import run_agent
from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.runtime.supervisor import RestartPolicy
from edge_agent.service.console import StatusLine
from edge_agent.service.lifecycle import ServiceLifecycle
from edge_agent.service.notify import SocketNotifier
from edge_agent.settings.config_file import load_settings


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[NotifyListener]:
    instance = NotifyListener(tmp_path)
    yield instance
    instance.close()


def test_a_worker_that_keeps_dying_stops_the_watchdog(
    tmp_path: Path, broker: MosquittoBroker, listener: NotifyListener
) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 160, 120, 10, 1.0)
    settings = load_settings(write_config(tmp_path, clip, broker.port))
    agent = Agent(settings, restart_policy=RestartPolicy(first_delay_s=0.1, max_deaths=3))
    link = ServiceLifecycle(SocketNotifier(listener.address), 0.2, settings.service)
    stop = threading.Event()
    runner = threading.Thread(
        target=run_agent, name="test-runner",
        kwargs={"settings": settings, "status": StatusLine(sys.stderr, interactive=False),
                "stop_event": stop, "agent": agent, "service": link})
    runner.start()
    try:
        listener.wait_for(lambda m: m.has("WATCHDOG=1"), 15.0)
        executor = agent.runtime.executors["cpu"]

        def broken(_stop: threading.Event) -> NoReturn:
            raise RuntimeError("injected bug in batch selection")

        executor.due.next_batch = broken  # type: ignore[method-assign]
        broke_at = time.monotonic()
        failed = listener.wait_for(lambda m: "FAILED prepare-cpu" in (m.status() or ""), 15.0,
                                   after_s=broke_at)
        health = executor.preparer.health()
        assert health.given_up and health.deaths == 3 and health.restarts == 2
        assert "injected bug" in health.last_error
        assert agent.supervisor.failed() == {"prepare-cpu": health.last_error}
        quiet_from = failed.at_s
        time.sleep(1.0)  # 5 watchdog intervals
        assert [t for t in listener.pings() if t > quiet_from] == [], "watchdog kept pinging"
        assert not agent.healthy()
    finally:
        stop.set()
        runner.join(15.0)
    assert not runner.is_alive()
