"""Hand-made JWTs for the attacks a library would refuse to sign."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_input(header: dict[str, Any], claims: dict[str, Any]) -> str:
    encoded = (json.dumps(part, separators=(",", ":")).encode() for part in (header, claims))
    return ".".join(_segment(part) for part in encoded)


def unsigned(claims: dict[str, Any], alg: str = "none", **header: Any) -> str:
    """An `alg: none` token: a header, the claims and an empty signature."""
    return _signing_input({"alg": alg, **header}, claims) + "."


def hmac_signed(claims: dict[str, Any], key: bytes, **header: Any) -> str:
    """Signed with HMAC-SHA256 whatever `alg` the header claims, as in key-confusion attacks."""
    signing_input = _signing_input({"alg": "HS256", **header}, claims)
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_segment(signature)}"
