"""Optional HMAC signing of commands: a fleet key, a timestamp window and single-use nonces.

Why on top of the broker ACL: the ACL stops devices from commanding each other, but anyone
holding an operator (dashboard) login may publish commands; a signature proves the command came
from a holder of the fleet key. Why the standard library: `hmac.compare_digest` and SHA-256 are
all that is needed, and a dependency would have to be on every Jetson.

Key rotation: a device accepts every key in its keyring (key id -> secret). Add the new key to
every device, switch the tool to sign with it, then remove the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any, Callable, Dict, Mapping, Optional

from edge_agent.fleet.envelope import CommandRequest, Signature

DEFAULT_WINDOW_S = 300.0


def canonical_bytes(request: CommandRequest) -> bytes:
    """The signed bytes: the request without its signature, keys sorted, no spaces."""
    data: Dict[str, Any] = request.model_dump(exclude={"signature"})
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(request: CommandRequest, key_id: str, secret: bytes) -> CommandRequest:
    """A copy of ``request`` with a fresh nonce and its HMAC."""
    nonce = secrets.token_hex(16)
    unsigned = request.model_copy(update={"signature": None})
    mac = hmac.new(secret, canonical_bytes(unsigned) + nonce.encode(), hashlib.sha256)
    return request.model_copy(
        update={"signature": Signature(key_id=key_id, nonce=nonce, mac=mac.hexdigest())}
    )


class SignatureVerifier:
    """Checks signatures against a keyring; nonces are claimed in a persistent store."""

    def __init__(
        self,
        keyring: Mapping[str, bytes],
        claim_nonce: Callable[[str, float], bool],
        window_s: float = DEFAULT_WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``claim_nonce(nonce, keep_until_s)`` returns False when the nonce was seen."""
        self._keyring = dict(keyring)
        self._claim_nonce = claim_nonce
        self._window_s = window_s
        self._clock = clock

    def verify(self, request: CommandRequest) -> Optional[str]:
        """None when valid; else an internal reason for the log and counters (never for the
        reply, which only says 'unauthorised')."""
        signature = request.signature
        if signature is None:
            return "unsigned"
        secret = self._keyring.get(signature.key_id)
        if secret is None:
            return "unknown key id"
        unsigned = request.model_copy(update={"signature": None})
        expected = hmac.new(
            secret, canonical_bytes(unsigned) + signature.nonce.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature.mac):
            return "bad mac"
        now = self._clock()
        if abs(now - request.issued_at) > self._window_s:
            return "timestamp outside window"
        if not self._claim_nonce(f"{signature.key_id}:{signature.nonce}", now + 2 * self._window_s):
            return "nonce replayed"
        return None
