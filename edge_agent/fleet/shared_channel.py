"""Several devices on one MQTT connection: fan one subscription out to many receivers.

Why: a simulator of a thousand devices cannot afford a thousand connections and network
threads on a laptop; paho keeps one callback per topic filter, and the site and fleet request
topics are the same filter for every device, so this class keeps the list per filter.
"""

from __future__ import annotations

import threading
from typing import Dict, List

from edge_agent.fleet.channel import MessageCallback, MessageProperties
from edge_agent.fleet.paho_link import PahoLink


class SharedLinkChannel:
    """A `CommandChannel` view of one `PahoLink` shared by many receivers."""

    def __init__(self, link: PahoLink) -> None:
        self._link = link
        self._routes: Dict[str, List[MessageCallback]] = {}
        self._lock = threading.Lock()

    def subscribe(self, topic: str, callback: MessageCallback) -> None:
        """Add ``callback`` for ``topic``; only the first one subscribes on the link."""
        with self._lock:
            first = topic not in self._routes
            self._routes.setdefault(topic, []).append(callback)
        if first:
            self._link.subscribe(topic, self._fan_out(topic))

    def _fan_out(self, topic: str) -> MessageCallback:
        def deliver(name: str, payload: bytes, properties: MessageProperties) -> None:
            with self._lock:
                callbacks = list(self._routes.get(topic, ()))
            for callback in callbacks:
                callback(name, payload, properties)

        return deliver

    def publish_reply(self, topic: str, payload: bytes, correlation_data: bytes) -> None:
        """Through the shared link."""
        self._link.publish_reply(topic, payload, correlation_data)
