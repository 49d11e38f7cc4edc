"""A real MQTT subscriber that prints what the agent published, for the demo.

It is a separate client on purpose: what it prints is what any dashboard would receive,
not what the agent believes it sent.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, List, Optional

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
        self.track_events = 0
        self.tracks: Dict[str, Dict[str, Any]] = {}  # track id -> its latest event
        self.counts: Dict[str, str] = {}  # "<camera>/zone/<zone>/person" etc. -> value

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

    def last_tracks(self) -> List[Dict[str, Any]]:
        """Latest event of every track seen in the newest tracked frame (to draw its box)."""
        if not self.tracks:
            return []
        newest = max(int(t.get("frame_seq", 0)) for t in self.tracks.values())
        return [t for t in self.tracks.values() if int(t.get("frame_seq", 0)) == newest]

    def _on_track(self, topic: str, event: Dict[str, Any]) -> None:
        self.track_events += 1
        kept = self.tracks.get(str(event.get("id")), {})  # pose and skeleton outlive updates
        self.tracks[str(event.get("id"))] = {
            **{key: kept[key] for key in ("pose", "keypoints") if key in kept}, **event}
        zones = event.get("zones", {})
        moved = "".join(f" +{z}" for z in zones.get("entered", [])) + "".join(
            f" -{z}" for z in zones.get("left", [])
        )
        box = ",".join(f"{v:.0f}" for v in event.get("box", []))
        self._say(
            f"{topic} {event.get('type')} id={event.get('id')} reid={event.get('reid_id')} "
            f"box=[{box}] zones={zones.get('after', [])}{moved} "
            f"emb={event.get('embedding_dim', 0) if event.get('embedding') else 0}"
        )

    def _on_pose(self, message: Dict[str, Any]) -> None:
        """Pose class (pose events) and skeleton (keypoints) go with the track they belong to,
        so the rendered picture shows them."""
        track = self.tracks.get(str(message.get("id")))
        if track is not None:
            for key in ("pose", "keypoints"):
                if message.get(key) is not None:
                    track[key] = message[key]

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith(("/pose", "/keypoints")) and "/zone/" not in msg.topic:
            try:
                self._on_pose(json.loads(msg.payload))
            except (ValueError, TypeError, AttributeError):
                self._say(f"{msg.topic}: unparseable pose message")
            return
        if msg.topic.endswith("/track"):
            try:
                self._on_track(msg.topic, json.loads(msg.payload))
            except (ValueError, TypeError, AttributeError):
                self._say(f"{msg.topic}: unparseable track event")
            return
        for leaf in ("/person", "/person/active", "/in", "/out"):
            if msg.topic.endswith(leaf) and ("/zone/" in msg.topic or "/line/" in msg.topic):
                key = msg.topic.split("/", 2)[-1]
                self.counts[key] = msg.payload.decode("utf-8", "replace")
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
