"""TLS for the broker connection, checked at start-up so a bad file fails with its setting name.

Why check ourselves: paho reports a wrong certificate path or a key without permission only
when it connects, as a bare OSError or ssl.SSLError, and then retries forever. Loading the
files into an ssl.SSLContext before anything starts turns each mistake into a ConfigError that
names mqtt.tls_ca_file / tls_cert_file / tls_key_file. A private key readable by group or
others is refused (reliability.md section 6, S7): a device key is the device's identity.
"""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path
from typing import Any, Optional

from edge_agent.errors import ConfigError
from edge_agent.settings.mqtt import MqttSettings


class TrackingContext(ssl.SSLContext):
    """An SSLContext that remembers the last socket it wrapped.

    paho does not close the socket when the TLS handshake fails (paho-mqtt 2.2
    ``_ssl_wrap_socket``); the link closes it through ``last_socket`` instead of leaving it
    to the garbage collector.
    """

    last_socket: Optional[ssl.SSLSocket] = None

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        """Wrap as usual and remember the result."""
        wrapped = super().wrap_socket(*args, **kwargs)
        self.last_socket = wrapped
        return wrapped

    def close_last(self) -> None:
        """Close the socket of a failed handshake, if any."""
        sock, self.last_socket = self.last_socket, None
        if sock is not None:
            sock.close()


def _readable(path: Path, setting: str) -> None:
    if not path.is_file():
        raise ConfigError(
            f"mqtt.{setting} = {str(path)!r} does not exist or is not a file",
            f"point mqtt.{setting} at a PEM file",
        )
    if not os.access(path, os.R_OK):
        raise ConfigError(
            f"mqtt.{setting} = {str(path)!r} is not readable by this user",
            "make it readable by the service user (chown / chmod)",
        )


def build_tls_context(settings: MqttSettings) -> Optional[TrackingContext]:
    """The context for paho's tls_set_context, or None without TLS; raises ConfigError."""
    if settings.tls_ca_file is None:
        return None
    _readable(settings.tls_ca_file, "tls_ca_file")
    context = TrackingContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cafile=str(settings.tls_ca_file))
    except (ssl.SSLError, ValueError) as exc:
        raise ConfigError(
            f"mqtt.tls_ca_file = {str(settings.tls_ca_file)!r} is not a PEM CA certificate: {exc}",
            "use the CA certificate (PEM) that signed the broker's certificate",
        ) from exc
    if settings.tls_cert_file is not None and settings.tls_key_file is not None:
        _readable(settings.tls_cert_file, "tls_cert_file")
        _readable(settings.tls_key_file, "tls_key_file")
        mode = stat.S_IMODE(settings.tls_key_file.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"mqtt.tls_key_file = {str(settings.tls_key_file)!r} has mode {mode:04o}; a "
                "private key must not be readable or writable by group or others",
                f"chmod 600 {settings.tls_key_file}",
            )
        try:
            context.load_cert_chain(str(settings.tls_cert_file), str(settings.tls_key_file))
        except ssl.SSLError as exc:
            raise ConfigError(
                f"mqtt.tls_cert_file / mqtt.tls_key_file do not form a certificate and its "
                f"private key: {exc}",
                "use the device certificate (PEM) and the key it was issued for",
            ) from exc
    return context


def describe_tls_failure(exc: BaseException, settings: MqttSettings) -> str:
    """A one-line cause for a failed handshake, naming the setting to look at."""
    text = str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS: the broker's certificate was not accepted ({exc.verify_message}); check "
            f"mqtt.tls_ca_file and that mqtt.host matches the certificate"
        )
    lowered = text.lower()
    if any(word in lowered for word in ("certificate required", "unknown ca", "bad certificate")):
        return f"TLS: the broker refused our client certificate mqtt.tls_cert_file ({text})"
    if settings.tls_ca_file is None and ("wrong version" in lowered or "record" in lowered):
        return f"TLS: the broker speaks TLS; set mqtt.tls_ca_file ({text})"
    return f"TLS handshake failed: {text}"
