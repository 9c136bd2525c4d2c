"""Secrets kept at rest sealed with AES-GCM (`cryptography`), so that a dump of the
database alone reveals none of them.

Each sealed value is bound to where it belongs (its `context`, such as the organization and
id of the row holding it): moved to another row, it no longer opens.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1."
_NONCE_BYTES = 12


class SealBroken(Exception):
    """The sealed value was not sealed with this key for this context, or was altered."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, secret: str, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), context.encode())
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, context: str) -> str:
        if not sealed.startswith(_VERSION):
            raise SealBroken
        raw = base64.urlsafe_b64decode(sealed.removeprefix(_VERSION))
        try:
            opened = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise SealBroken from None
        return opened.decode()
