"""Wiring of the fleet receiver into a running agent, in one call for the daemon's owner.

    service = build_fleet_service(agent, settings, fleet_settings,
                                  TransportChannel(publisher), hooks=AgentHooks(...))
    service.start()            # after agent.start(); publishes the retained device card
    service.publish_card()     # with each telemetry report (fps, temperature, outbox)
    service.stop()             # before agent.stop()

`TransportChannel` adapts the agent's MQTT session (anything with ``add_subscription`` and
``publish``); that session hands handlers only the payload, so replies use the documented
reply topic and the ``request_id`` correlation, which every client understands.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from typing_extensions import Protocol

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.fleet.agent_target import AgentCommandTarget, AgentHooks, FleetAgent
from edge_agent.fleet.channel import CommandChannel, MessageCallback, MessageProperties
from edge_agent.fleet.dispatcher import CommandDispatcher, DispatchOptions
from edge_agent.fleet.ledger import CommandLedger
from edge_agent.fleet.receiver import CommandReceiver
from edge_agent.fleet.target import CommandTarget
from edge_agent.fleet.topics import FleetTopics
from edge_agent.settings import AgentSettings
from edge_agent.settings.fleet import FleetSettings


class SubscriptionHost(Protocol):
    """What the agent's transport offers (DurablePublisher)."""

    def add_subscription(self, topic: str, hook: Callable[[bytes], List[OutgoingMessage]]) -> None:
        ...

    def publish(self, message: OutgoingMessage) -> None: ...


class TransportChannel:
    """`CommandChannel` over the agent's own MQTT session (replies go through its outbox)."""

    def __init__(self, host: SubscriptionHost) -> None:
        self._host = host

    def subscribe(self, topic: str, callback: MessageCallback) -> None:
        """Register with the transport; the hook answers nothing itself (replies are sent
        by the receiver as they happen)."""

        def hook(payload: bytes) -> List[OutgoingMessage]:
            callback(topic, payload, MessageProperties())
            return []

        self._host.add_subscription(topic, hook)

    def publish_reply(self, topic: str, payload: bytes, correlation_data: bytes) -> None:
        """QoS 1 through the outbox, so a reply survives a broker outage."""
        self._host.publish(OutgoingMessage(topic, payload, 1, False, "event"))


class FleetService:
    """The receiver plus the retained device card of one agent."""

    def __init__(self, receiver: CommandReceiver, target: CommandTarget, card_topic: str,
                 publish_retained: Callable[[str, bytes], None], ledger: CommandLedger) -> None:
        self.receiver = receiver
        self._target = target
        self._card_topic = card_topic
        self._publish_retained = publish_retained
        self._ledger = ledger

    def start(self) -> None:
        """Listen for commands and announce the card."""
        self.receiver.start()
        self.publish_card()

    def publish_card(self) -> None:
        """Retained DeviceCard (call after each telemetry report)."""
        self._publish_retained(self._card_topic, self._target.card().model_dump_json().encode())

    def counters(self) -> Dict[str, int]:
        """Command counters for telemetry (received, done, failed, refusals by code)."""
        return self.receiver.counters()

    def stop(self) -> None:
        """Stop the worker and close the ledger."""
        self.receiver.stop()
        self._ledger.close()


def build_fleet_service(
    agent: FleetAgent,
    settings: AgentSettings,
    fleet: FleetSettings,
    channel: CommandChannel,
    publish_retained: Callable[[str, bytes], None],
    hooks: Optional[AgentHooks] = None,
) -> FleetService:
    """Everything the device side needs, from the agent and its settings."""
    target = AgentCommandTarget(agent, settings, fleet.site, hooks or AgentHooks(),
                                fleet.snapshots_enabled)
    topics = FleetTopics(settings.mqtt.topic_prefix, agent.device_id, fleet.site)
    ledger = CommandLedger(fleet.ledger_path)
    dispatcher = CommandDispatcher(
        target, DispatchOptions(snapshots_enabled=fleet.snapshots_enabled, health_settle_s=2.0)
    )
    receiver = CommandReceiver(topics, channel, dispatcher, ledger, fleet)
    return FleetService(receiver, target, topics.card, publish_retained, ledger)
