"""A real MQTT subscriber that prints what the agent published, for the demo.

It is a separate client on purpose: what it prints is what any dashboard would receive,
not what the agent believes it sent.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, Optional

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class EventPrinter:
    """Subscribes to a topic filter and prints one line per message."""

    def __init__(self, host: str, port: int, topic_filter: str, say: Callable[[str], None]) -> None:
        self._host = host
        self._port = port
        self._filter = topic_filter
        self._say = say
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="edge-agent-demo-viewer")
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._subscribed = threading.Event()
        self.mask_events = 0
        self.last_mask_event: Optional[Dict[str, Any]] = None

    def start(self) -> None:
        """Connect and subscribe before the agent starts, so no event is missed."""
        self._client.connect(self._host, self._port, keepalive=30)
        self._client.loop_start()
        self._subscribed.wait(5.0)

    def stop(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe(self._filter, qos=1)
        self._subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if not msg.topic.endswith("/mask"):
            retained = " (retained)" if msg.retain else ""
            self._say(f"{msg.topic}{retained}: {msg.payload.decode('utf-8', 'replace')[:160]}")
            return
        try:
            event = json.loads(msg.payload)
        except ValueError:
            self._say(f"{msg.topic}: unparseable payload of {len(msg.payload)} bytes")
            return
        self.mask_events += 1
        self.last_mask_event = event
        zones = ", ".join(f"{z['name']} {z['coverage']:.1%}" for z in event.get("zones", []))
        flag = " STAND-IN" if event.get("standin") else ""
        self._say(
            f"{msg.topic} seq={event.get('seq')} people={event.get('person_fraction', 0):.1%} "
            f"zones[{zones}] rle={len(event.get('mask', {}).get('counts', []))} runs "
            f"{len(msg.payload)} B{flag}"
        )
