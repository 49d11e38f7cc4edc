"""MQTT settings: broker connection and topic layout."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

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
    session_expiry_s: int = Field(
        3600,
        ge=0,
        le=0xFFFFFFFF,
        description=(
            "MQTT 5 session expiry in seconds: the broker keeps our subscriptions this long "
            "after a disconnect (0 = clean session)."
        ),
    )
    reconnect_min_s: float = Field(
        0.5, gt=0.0, description="First reconnect delay ceiling in seconds (full jitter)."
    )
    reconnect_max_s: float = Field(
        30.0,
        gt=0.0,
        le=60.0,
        description="Cap of the reconnect delay in seconds (exponential, full jitter, <= 60).",
    )
    max_payload_bytes: int = Field(
        8192,
        ge=256,
        description=(
            "Largest non-mask payload sent, in bytes; bigger ones are refused, counted and "
            "logged (some consumers break above 10 KiB)."
        ),
    )
    telemetry_interval_s: float = Field(
        60.0, ge=0.0, description="Seconds between telemetry messages; 0 = none."
    )
    ha_discovery: bool = Field(
        True, description="Publish Home Assistant MQTT discovery config (retained)."
    )
    ha_discovery_prefix: str = Field(
        "homeassistant", min_length=1, description="Home Assistant discovery topic prefix."
    )
    tls_ca_file: Optional[Path] = Field(
        None, description="CA certificate (PEM) that signed the broker's; set to use TLS."
    )
    tls_cert_file: Optional[Path] = Field(
        None, description="Client certificate (PEM) for mTLS; needs tls_key_file."
    )
    tls_key_file: Optional[Path] = Field(
        None,
        description="Private key (PEM) of tls_cert_file; must not be readable by group/others.",
    )

    @field_validator("topic_prefix", "ha_discovery_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if TOPIC_LEVEL_FORBIDDEN.search(value):
            raise ValueError("must not contain '/', '+', '#' or NUL (it is one topic level)")
        return value

    @model_validator(mode="after")
    def _check_auth(self) -> MqttSettings:
        if self.password and not self.username:
            raise ValueError("password is set but username is empty; set both or neither")
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file must be set together")
        if self.tls_cert_file is not None and self.tls_ca_file is None:
            raise ValueError("tls_cert_file needs tls_ca_file (client certificates need TLS)")
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self
