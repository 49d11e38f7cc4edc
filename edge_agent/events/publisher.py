"""The narrow interface between event producers and whatever carries events to the broker.

Why so narrow: producers (event worker, telemetry, tracking) only need these three methods,
so the carrier behind them (today DurablePublisher: an on-disk outbox and our own MQTT link)
can change without touching them.
The contract every implementation keeps:

- ``publish`` returns quickly and never raises because the broker is away; delivery is
  reported through ``stats`` and ``flush``, never through exceptions.
- A message counts as delivered only when the broker acknowledged it (paho's ``on_publish``
  with a reason code below 0x80), not when the client library accepted it.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import Literal, Protocol

Channel = Literal["event", "state", "mask", "telemetry"]
"""What a message is, for the per-channel policy: 'event' and 'state' are durable (kept in the
outbox until acknowledged); 'mask' and 'telemetry' are latest-only (never stored or replayed)."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One MQTT publish: where, what, and how reliably."""

    topic: str
    payload: bytes
    qos: Literal[0, 1, 2]
    retain: bool
    channel: Channel

    def __post_init__(self) -> None:
        if not self.topic:
            raise ValueError("topic must not be empty")
        if "+" in self.topic or "#" in self.topic:
            raise ValueError(f"topic {self.topic!r} must not contain the wildcards '+' or '#'")
        if self.qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {self.qos!r}")


@dataclass(frozen=True)
class PublisherStats:
    """Counters since start(); ``published`` = acknowledged + failed + dropped + pending."""

    published: int
    """Messages handed to ``publish``."""
    acknowledged: int
    """Accepted by the broker (QoS 1/2: PUBACK/PUBCOMP below 0x80; QoS 0: written out)."""
    failed: int
    """Refused by the broker: MQTT 5 reason code >= 0x80 (e.g. 0x87 'Not authorized')."""
    dropped: int
    """Never going to be sent: QoS 0 while disconnected, or refused by the local queue."""
    pending: int
    """Handed over, not yet acknowledged (in flight or queued for the next connection)."""
    connected: bool
    """The broker accepted our CONNECT and the connection has not dropped since."""
    last_error: str
    """The most recent connect refusal, connection loss or publish failure; '' if none."""


class Publisher(Protocol):
    """Hands messages to the broker and reports truthfully what became of them."""

    def publish(self, msg: OutgoingMessage) -> None:
        """Queue one message; returns at once and never raises for a broker outage."""

    def flush(self, timeout_s: float) -> bool:
        """Wait until nothing is pending; True when everything handed over was answered."""

    def stats(self) -> PublisherStats:
        """A consistent snapshot of the counters."""
