"""How commands reach the receiver and replies leave it: the `CommandChannel` protocol.

The receiver never sees a transport: the daemon adapts its own MQTT session to this protocol,
the simulator and `edge-fleet` use `paho_link.PahoLink`. Callbacks may run on the network
thread, so the receiver does only parsing there and hands execution to its own worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from typing_extensions import Protocol


@dataclass(frozen=True)
class MessageProperties:
    """The MQTT 5 request/response properties of a received command (empty under 3.1.1)."""

    response_topic: str = ""
    correlation_data: bytes = b""


MessageCallback = Callable[[str, bytes, MessageProperties], None]


class CommandChannel(Protocol):
    """Subscribe to request topics; publish replies (QoS 1, not retained)."""

    def subscribe(self, topic: str, callback: MessageCallback) -> None:
        """Deliver every message matching ``topic`` (a filter) to ``callback``; kept across
        reconnects."""
        ...

    def publish_reply(self, topic: str, payload: bytes, correlation_data: bytes) -> None:
        """Publish one reply; ``correlation_data`` (may be empty) goes in the MQTT 5 property."""
        ...
