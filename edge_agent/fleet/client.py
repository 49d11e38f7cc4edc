"""The operator's side: discover devices from retained messages, send commands, track replies.

Replies are matched by command id (in the payload, so MQTT 3.1.1 works the same way); over
MQTT 5 each device-addressed request also carries a response topic and correlation data, and
the device answers there.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from pydantic import ValidationError

from edge_agent.events.payloads import StatusPayload
from edge_agent.events.state_payloads import TelemetryPayload
from edge_agent.fleet.channel import MessageCallback, MessageProperties
from edge_agent.fleet.envelope import CommandReply, CommandRequest, encode
from edge_agent.fleet.paho_link import LinkOptions, PahoLink
from edge_agent.fleet.signing import sign
from edge_agent.fleet.target import DeviceCard
from edge_agent.fleet.topics import FleetTopics, fleet_request_topic, site_request_topic

ReplyListener = Callable[[CommandReply], None]


@dataclass
class DeviceView:
    """What the tool knows about one device."""

    device_id: str
    status: Optional[StatusPayload] = None
    card: Optional[DeviceCard] = None
    telemetry: Optional[TelemetryPayload] = None
    last_seen_s: float = 0.0


@dataclass
class CommandTracker:
    """Replies of one command id, per device."""

    command_id: str
    expected: List[str] = field(default_factory=list)
    replies: Dict[str, List[CommandReply]] = field(default_factory=dict)

    def final(self, device_id: str) -> Optional[CommandReply]:
        """The device's terminal reply (the first, ignoring later duplicates)."""
        for reply in self.replies.get(device_id, []):
            if reply.terminal:
                return reply
        return None


class FleetClient:
    """One connection of `edge-fleet`."""

    def __init__(
        self,
        link: LinkOptions,
        prefix: str = "edge-agent",
        sender: str = "edge-fleet",
        signing_key: Optional[Tuple[str, bytes]] = None,
        follow_telemetry: bool = False,
    ) -> None:
        self.prefix = prefix
        self._sender = sender
        self._signing_key = signing_key
        self._follow = follow_telemetry
        self._link = PahoLink(link)
        self._cond = threading.Condition()
        self._devices: Dict[str, DeviceView] = {}
        self._trackers: Dict[str, CommandTracker] = {}
        self._listeners: List[ReplyListener] = []
        self._telemetry_listeners: List[Callable[[TelemetryPayload], None]] = []
        self.ignored = 0
        """Messages that did not parse (another tool's topics, old versions)."""

    def start(self) -> FleetClient:
        """Connect and subscribe to status, cards, replies (and telemetry when following)."""
        wild = FleetTopics(self.prefix, "+")
        routes: List[Tuple[str, MessageCallback]] = [
            (wild.status, self._on_status), (wild.card, self._on_card),
            (wild.replies, self._on_reply),
        ]
        if self._follow:
            routes.append((wild.telemetry, self._on_telemetry))
        self._link.subscribe_many(routes)
        self._link.start()
        return self

    def stop(self) -> None:
        """Disconnect."""
        self._link.stop()

    # -- discovery --------------------------------------------------------------------------

    def devices(self) -> Dict[str, DeviceView]:
        """Known devices (a copy)."""
        with self._cond:
            return {k: DeviceView(**vars(v)) for k, v in self._devices.items()}

    def wait_devices(
        self, expected: int = 0, quiet_s: float = 1.0, timeout_s: float = 30.0
    ) -> int:
        """Until ``expected`` devices have a card (0: until none appeared for ``quiet_s``)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            last_count, last_change = -1, time.monotonic()
            while True:
                count = sum(1 for v in self._devices.values() if v.card is not None)
                now = time.monotonic()
                if count != last_count:
                    last_count, last_change = count, now
                if expected and count >= expected:
                    return count
                if not expected and now - last_change >= quiet_s:
                    return count
                if now >= deadline:
                    return count
                self._cond.wait(min(0.1, deadline - now))

    def _view(self, topic: str) -> DeviceView:
        device_id = topic.split("/")[1]
        view = self._devices.get(device_id)
        if view is None:
            view = self._devices[device_id] = DeviceView(device_id)
        view.last_seen_s = time.time()
        return view

    def _parsed(
        self, topic: str, payload: bytes, setter: Callable[[DeviceView, bytes], None]
    ) -> None:
        if not payload:  # a cleared retained message
            return
        with self._cond:
            try:
                setter(self._view(topic), payload)
            except ValidationError:
                self.ignored += 1
            self._cond.notify_all()

    def _on_status(self, topic: str, payload: bytes, props: MessageProperties) -> None:
        def put(view: DeviceView, data: bytes) -> None:
            view.status = StatusPayload.model_validate_json(data)

        self._parsed(topic, payload, put)

    def _on_card(self, topic: str, payload: bytes, props: MessageProperties) -> None:
        def put(view: DeviceView, data: bytes) -> None:
            view.card = DeviceCard.model_validate_json(data)

        self._parsed(topic, payload, put)

    def _on_telemetry(self, topic: str, payload: bytes, props: MessageProperties) -> None:
        telemetry: List[TelemetryPayload] = []

        def put(view: DeviceView, data: bytes) -> None:
            view.telemetry = TelemetryPayload.model_validate_json(data)
            telemetry.append(view.telemetry)

        self._parsed(topic, payload, put)
        for item in telemetry:
            for listener in list(self._telemetry_listeners):
                listener(item)

    def on_telemetry(self, listener: Callable[[TelemetryPayload], None]) -> None:
        """Call ``listener`` for each telemetry document (follow)."""
        self._telemetry_listeners.append(listener)

    # -- commands ---------------------------------------------------------------------------

    def on_reply(self, listener: ReplyListener) -> None:
        """Call ``listener`` for each reply (live progress)."""
        self._listeners.append(listener)

    def _on_reply(self, topic: str, payload: bytes, props: MessageProperties) -> None:
        try:
            reply = CommandReply.model_validate_json(payload)
        except ValidationError:
            with self._cond:
                self.ignored += 1
            return
        with self._cond:
            tracker = self._trackers.get(reply.id)
            if tracker is None:
                return
            tracker.replies.setdefault(reply.device_id, []).append(reply)
            self._cond.notify_all()
        for listener in list(self._listeners):
            listener(reply)

    def request(self, command: str, args: Dict[str, Any], expires_in_s: float) -> CommandRequest:
        """A new request (signed when a key is configured)."""
        now = time.time()
        command_id = uuid.uuid4().hex
        request = CommandRequest(
            id=command_id, command=command, args=args, issued_at=now,
            expires_at=now + expires_in_s, request_id=command_id, sender=self._sender,
        )
        if self._signing_key is not None:
            request = sign(request, *self._signing_key)
        return request

    def send(
        self,
        command: str,
        args: Dict[str, Any],
        devices: Sequence[str] = (),
        site: str = "",
        everyone: bool = False,
        expires_in_s: float = 300.0,
    ) -> CommandTracker:
        """Publish one command to devices (one message each), a site, or all devices."""
        request = self.request(command, args, expires_in_s)
        payload = encode(request)
        if everyone or site:
            with self._cond:
                expected = [d for d, v in self._devices.items()
                            if v.card is not None and (everyone or v.card.site == site)]
        else:
            expected = list(devices)
        tracker = CommandTracker(request.id, expected)
        with self._cond:
            self._trackers[request.id] = tracker
        correlation = request.id.encode()
        if everyone:
            self._link.publish(fleet_request_topic(self.prefix), payload,
                               correlation_data=correlation)
        elif site:
            self._link.publish(site_request_topic(self.prefix, site), payload,
                               correlation_data=correlation)
        else:
            for device_id in devices:
                topics = FleetTopics(self.prefix, device_id)
                self._link.publish(topics.requests, payload, response_topic=topics.replies,
                                   correlation_data=correlation)
        return tracker

    def wait(self, tracker: CommandTracker, timeout_s: float) -> List[str]:
        """Until every expected device replied done/failed; returns those that did not."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                missing = [d for d in tracker.expected if tracker.final(d) is None]
                remaining = deadline - time.monotonic()
                if not missing or remaining <= 0:
                    return missing
                self._cond.wait(min(remaining, 0.5))

    def forget(self, tracker: CommandTracker) -> None:
        """Stop collecting replies for it (bounded memory in long sessions)."""
        with self._cond:
            self._trackers.pop(tracker.command_id, None)
