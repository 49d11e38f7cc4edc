"""MQTT settings: broker connection and topic layout."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from typing_extensions import Literal

from edge_agent.settings.base import TOPIC_LEVEL_FORBIDDEN, StrictModel


class MqttSettings(StrictModel):
    """Broker connection and topic layout."""

    host: str = Field("127.0.0.1", min_length=1, description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker TCP port (8883 for TLS).")
    protocol: Literal["5", "3.1.1"] = Field(
        "5",
        description=(
            "MQTT protocol version. '5' reports refused publishes (e.g. ACL denials); "
            "'3.1.1' only for brokers without MQTT 5."
        ),
    )
    client_id: str = Field(
        "", description="MQTT client id; empty = '<topic_prefix>-<device id>' (unique per device)."
    )
    topic_prefix: str = Field(
        "edge-agent",
        min_length=1,
        description="First topic level; topics are <topic_prefix>/<device id>/... .",
    )
    keepalive_s: int = Field(30, ge=5, le=65535, description="MQTT keepalive in seconds.")
    qos: Literal[0, 1] = Field(
        1, description="QoS of events; 1 (at least once) is needed not to lose events."
    )
    username: str = Field("", description="Username for password authentication; empty = none.")
    password: str = Field(
        "", description="Password for `username`; prefer EDGE_AGENT_MQTT__PASSWORD to a file."
    )
    connect_timeout_s: float = Field(
        5.0, gt=0.0, description="How long start-up waits for the first connection, in seconds."
    )

    @field_validator("topic_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if TOPIC_LEVEL_FORBIDDEN.search(value):
            raise ValueError("must not contain '/', '+', '#' or NUL (it is one topic level)")
        return value

    @model_validator(mode="after")
    def _check_auth(self) -> MqttSettings:
        if self.password and not self.username:
            raise ValueError("password is set but username is empty; set both or neither")
        return self
