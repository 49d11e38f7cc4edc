"""MQTT/outbox settings refuse combinations that cannot work, naming the field."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from pydantic import ValidationError

from edge_agent.settings import MqttSettings, OutboxSettings


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reconnect_max_s": 120}, "reconnect_max_s"),
        ({"tls_cert_file": "/x.crt"}, "tls_cert_file and tls_key_file"),
        ({"tls_cert_file": "/x.crt", "tls_key_file": "/x.key"}, "needs tls_ca_file"),
        ({"reconnect_min_s": 5, "reconnect_max_s": 2}, "reconnect_min_s"),
        ({"ha_discovery_prefix": "a/b"}, "one topic level"),
    ],
)
def test_bad_mqtt_settings_are_refused(fields: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MqttSettings.model_validate(fields)


def test_outbox_overflow_policy_is_one_of_two() -> None:
    with pytest.raises(ValidationError, match="overflow"):
        OutboxSettings.model_validate({"overflow": "block"})
