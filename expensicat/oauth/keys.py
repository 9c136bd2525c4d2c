"""The authorization server's signing keys: ES256 (P-256) JWKs made and used by joserfc,
kept in the database with the private half sealed (expensicat.sealing, the key id as its
context).

Keys are loaded at first use (the server starts even while the database is down), the
first key made then if there is none. The newest key signs. Servers look for a newer one
every RELOAD_SECONDS, so for that long after `keys rotate` the old key may still sign; it
stays published, and accepted, until the last token it can have signed has expired.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import jwt
import orjson
from joserfc.jwk import ECKey

from expensicat.auth.principal import InvalidToken
from expensicat.oauth.records import SigningKey
from expensicat.oauth.store import OAuthStore
from expensicat.sealing import Sealer
from expensicat.timestamps import FORMAT, timestamp, utc_now

ALGORITHM = "ES256"
CURVE = "P-256"
RELOAD_SECONDS = 60.0
# An unknown kid reloads the keys, at most this often: forged kids cannot flood the database.
UNKNOWN_KID_RELOAD_SECONDS = 5.0
# Verifiers allow this much clock skew past a token's expiry.
LEEWAY_SECONDS = 60


def new_key(sealer: Sealer) -> SigningKey:
    key = ECKey.generate_key(CURVE, private=True)
    kid = key.thumbprint()  # RFC 7638: names the key by its public half
    public = {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
    return SigningKey(
        kid=kid,
        sealed_private_key=sealer.seal(orjson.dumps(key.as_dict(private=True)).decode(), kid),
        public_key=orjson.dumps(public).decode(),
        created_at=timestamp(utc_now()),
    )


class SigningKeys:
    def __init__(self, store: OAuthStore, sealer: Sealer, access_token_ttl: int) -> None:
        self._store = store
        self._sealer = sealer
        # How long after a newer key appears the old one must stay published.
        self._overlap = timedelta(seconds=RELOAD_SECONDS + access_token_ttl + LEEWAY_SECONDS)
        self._lock = asyncio.Lock()
        self._loaded_at = float("-inf")
        self._keys: list[SigningKey] = []
        self._signer: tuple[str, ECKey] | None = None
        self._verifying: dict[str, jwt.PyJWK] = {}

    async def signer(self) -> tuple[str, ECKey]:
        """The newest key's id and private key."""
        await self._fresh()
        assert self._signer is not None, "loaded by _fresh"
        return self._signer

    async def key(self, kid: str) -> jwt.PyJWK:
        """A published key, to verify a token with (the verifier's key source)."""
        asked_at = time.monotonic()
        if kid not in self._verifying and asked_at - self._loaded_at > UNKNOWN_KID_RELOAD_SECONDS:
            await self._reload(asked_at)
        try:
            return self._verifying[kid]
        except KeyError:
            raise InvalidToken("The token's signing key is unknown.") from None

    async def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The published public keys (RFC 7517)."""
        await self._fresh()
        return {"keys": [orjson.loads(key.public_key) for key in self._published()]}

    async def _fresh(self) -> None:
        """Keys loaded within RELOAD_SECONDS, so that a rotation elsewhere reaches us."""
        if time.monotonic() - self._loaded_at > RELOAD_SECONDS:
            await self._reload(time.monotonic())

    async def _reload(self, asked_at: float) -> None:
        async with self._lock:
            if self._loaded_at >= asked_at:
                return  # loaded while this caller waited
            self._keys = await self._store.signing_keys()
            if not self._keys:
                # The first use on a new database: make the first key. Servers starting
                # together may each make one; all are published, the newest signs.
                await self._store.insert_signing_key(new_key(self._sealer))
                self._keys = await self._store.signing_keys()
            newest = self._keys[-1]
            private = self._sealer.open(newest.sealed_private_key, newest.kid)
            self._signer = (newest.kid, ECKey.import_key(orjson.loads(private)))
            self._verifying = {
                key.kid: jwt.PyJWK(orjson.loads(key.public_key), ALGORITHM)
                for key in self._published()
            }
            self._loaded_at = time.monotonic()

    def _published(self) -> list[SigningKey]:
        """The newest key, and each older one until its successor has been signing long
        enough for every token it signed to have expired."""
        now = utc_now()
        published = []
        for key, successor in zip(self._keys, [*self._keys[1:], None], strict=True):
            if successor is None or _moment(successor.created_at) + self._overlap > now:
                published.append(key)
        return published


def _moment(text: str) -> datetime:
    return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)
