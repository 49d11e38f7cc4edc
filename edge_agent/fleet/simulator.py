"""`edge-fleet simulate`: N simulated devices on a broker, for rollouts, tests and benchmarks.

Each device runs the real receiver, dispatcher and ledger against a `SimulatedDevice`; they
share MQTT connections (``per_connection`` devices each). With ``per_connection == 1`` every
device has its own connection, durable session and will, exactly like an agent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional

from edge_agent import __version__
from edge_agent.events.payloads import StatusPayload
from edge_agent.fleet.dispatcher import CommandDispatcher, DispatchOptions
from edge_agent.fleet.ledger import CommandLedger
from edge_agent.fleet.paho_link import LinkOptions, PahoLink
from edge_agent.fleet.receiver import CommandReceiver
from edge_agent.fleet.shared_channel import SharedLinkChannel
from edge_agent.fleet.simulated_device import SimulatedDevice
from edge_agent.fleet.topics import FleetTopics
from edge_agent.settings.fleet import FleetSettings


@dataclass(frozen=True)
class SimulationOptions:
    """What to simulate."""

    devices: int = 10
    per_connection: int = 50
    sites: int = 1
    prefix: str = "edge-agent"
    id_prefix: str = "sim"
    telemetry_interval_s: float = 0.0
    """0 = no periodic telemetry (the card still carries fps/temperature/outbox)."""
    fleet: FleetSettings = FleetSettings(rate_per_s=50.0, burst=100)
    health_poll_s: float = 0.05


def device_ids(options: SimulationOptions) -> List[str]:
    """sim-0000, sim-0001, ..."""
    width = max(4, len(str(options.devices - 1)))
    return [f"{options.id_prefix}-{index:0{width}d}" for index in range(options.devices)]


def link_publisher(link: PahoLink) -> Callable[[str, bytes, bool], None]:
    """publish(topic, payload, retain) over ``link`` at QoS 1."""

    def publish(topic: str, payload: bytes, retain: bool) -> None:
        link.publish(topic, payload, retain=retain)

    return publish


class _Connection:
    """One link, its devices, their receivers and one ledger."""

    def __init__(self, link: PahoLink, ledger: CommandLedger) -> None:
        self.link = link
        self.ledger = ledger
        self.devices: List[SimulatedDevice] = []
        self.receivers: List[CommandReceiver] = []


class SimulatedFleet:
    """Start/stop N simulated devices; take one offline and back (tests)."""

    def __init__(self, link: LinkOptions, options: SimulationOptions, workdir: Path) -> None:
        self._link_options = link
        self._options = options
        self._workdir = workdir
        self._connections: List[_Connection] = []
        self._started_s = time.monotonic()
        self._stop = threading.Event()
        self._reporter: Optional[threading.Thread] = None

    @property
    def devices(self) -> Dict[str, SimulatedDevice]:
        """Device id -> device."""
        return {d.device_id: d for c in self._connections for d in c.devices}

    def receivers(self) -> List[CommandReceiver]:
        """Every receiver (for counters)."""
        return [r for c in self._connections for r in c.receivers]

    def start(self) -> None:
        """Connect every device and publish its status and card."""
        self._workdir.mkdir(parents=True, exist_ok=True)
        ids = device_ids(self._options)
        size = max(1, self._options.per_connection)
        for number, start in enumerate(range(0, len(ids), size)):
            self._connections.append(self._connect(number, ids[start : start + size]))
        if self._options.telemetry_interval_s > 0:
            self._reporter = threading.Thread(target=self._report, name="sim-telemetry",
                                              daemon=True)
            self._reporter.start()

    def _connect(
        self, number: int, ids: List[str], kept: Optional[List[SimulatedDevice]] = None
    ) -> _Connection:
        options = self._options
        will = None
        if len(ids) == 1:
            offline = StatusPayload(state="offline", device_id=ids[0], ts=None,
                                    version=__version__, session=1)
            will = (f"{options.prefix}/{ids[0]}/status", offline.model_dump_json().encode())
        link = PahoLink(replace(self._link_options, client_id=f"{options.id_prefix}-c{number}-"
                                f"{ids[0]}", session_expiry_s=3600, will=will))
        ledger = CommandLedger(self._workdir / f"ledger-{ids[0]}.sqlite", power_safe=False)
        connection = _Connection(link, ledger)
        channel = SharedLinkChannel(link)
        for index, device_id in enumerate(ids):
            if kept is not None:  # back from an outage: same state, new session
                device = kept[index]
                device.session += 1
            else:
                site = f"site-{int(device_id.rsplit('-', 1)[1]) % options.sites}"
                device = SimulatedDevice(device_id, site, options.prefix, link_publisher(link))
            device.attach(link_publisher(link))
            dispatcher = CommandDispatcher(
                device, DispatchOptions(health_poll_s=options.health_poll_s)
            )
            receiver = CommandReceiver(
                FleetTopics(options.prefix, device_id, device.site), channel, dispatcher, ledger,
                options.fleet,
            )
            receiver.start()
            connection.devices.append(device)
            connection.receivers.append(receiver)
        link.start(timeout_s=60.0)
        for device in connection.devices:
            device.rebirth()
        return connection

    def _report(self) -> None:
        while not self._stop.wait(self._options.telemetry_interval_s):
            uptime = time.monotonic() - self._started_s
            for connection in self._connections:
                for device in connection.devices:
                    payload = device.telemetry(uptime).model_dump_json().encode()
                    connection.link.publish(
                        f"{self._options.prefix}/{device.device_id}/telemetry", payload, qos=0
                    )

    def disconnect(self, device_id: str) -> None:
        """Drop the connection carrying ``device_id`` abruptly (the will fires); its session
        stays on the broker, which queues commands for it."""
        for connection in self._connections:
            if any(d.device_id == device_id for d in connection.devices):
                for receiver in connection.receivers:
                    receiver.stop()
                connection.link.stop(clean=False)
                return
        raise KeyError(device_id)

    def reconnect(self, device_id: str) -> None:
        """Bring the device back on a new process-like connection (same ledger file, so ids
        seen before the outage are still known)."""
        for index, connection in enumerate(self._connections):
            if any(d.device_id == device_id for d in connection.devices):
                connection.ledger.close()
                self._connections[index] = self._connect(
                    index, [d.device_id for d in connection.devices], connection.devices
                )
                return
        raise KeyError(device_id)

    def stop(self) -> None:
        """Stop receivers and disconnect cleanly."""
        self._stop.set()
        if self._reporter is not None:
            self._reporter.join(5.0)
        for connection in self._connections:
            for receiver in connection.receivers:
                receiver.stop()
            connection.link.stop()
            connection.ledger.close()
        self._connections = []
