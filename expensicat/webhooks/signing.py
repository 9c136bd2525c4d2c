"""Signatures as Standard Webhooks 1.0 defines them: HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{body}` with the secret's bytes, base64, after `v1,`;
several, separated by spaces, while a rotated-out secret still counts."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import datetime

from expensicat.webhooks.records import SECRET_PREFIX


def signature_header(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(f"v1,{_sign(secret, signed)}" for secret in secrets)


def _sign(secret: str, signed: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(
    message_id: str, sent_at: datetime, body: bytes, secrets: Sequence[str]
) -> dict[str, str]:
    """The three headers of Standard Webhooks for one attempt at sending `body`."""
    timestamp = int(sent_at.timestamp())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, message_id, timestamp, body),
    }
