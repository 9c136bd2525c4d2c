"""One HTTP delivery, made safe to point anywhere: the name is resolved now, every address
it has is checked against the address policy, and the connection goes to the address that
was checked (so a name cannot resolve to a safe address for the check and to another for
the connection). No redirect is followed, and at most 64 KiB of an answer is read."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from expensicat.webhooks.addresses import IPAddress, IPNetwork, refusal
from expensicat.webhooks.policy import DEFAULT_TIMEOUT_SECONDS

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "Expensicat-Webhooks/1"

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name has, as the system resolver gives them; an address in its
    usual form is its own (a trip through the resolver's thread costs more than the rest
    of a delivery's work)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(entry[4][0]) for entry in found))


class Sender:
    """Sends deliveries with aiohttp, whose client keeps up with many concurrent requests
    on one event loop."""

    def __init__(
        self,
        allowed: Sequence[IPNetwork] = (),
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        resolver: Resolver = resolve,
    ) -> None:
        self._allowed = tuple(allowed)
        self._resolve = resolver
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        started = time.perf_counter()
        try:
            target = URL(url)
            address, reason = await self._checked_address(target)
            if address is None:
                return _outcome(started, None, f"refused: {reason}")
            pinned = target.with_host(str(address))
            # The address goes in the URL; the name stays in Host, and in TLS (SNI and the
            # certificate's check).
            server_hostname = target.host if target.scheme == "https" else None
            answer = self._client().post(
                pinned,
                data=body,
                headers={
                    **headers,
                    "Host": _host_header(target),
                    "Content-Type": "application/json",
                },
                allow_redirects=False,
                server_hostname=server_hostname,
            )
            async with answer as response:
                await _read_some(response)
                status = response.status
        except TimeoutError:
            return _outcome(started, None, "timed out")
        except (aiohttp.ClientError, OSError, ValueError) as error:
            return _outcome(started, None, f"could not connect: {type(error).__name__}")
        return _outcome(started, status, None if 200 <= status < 300 else f"answered {status}")

    def _client(self) -> aiohttp.ClientSession:
        """One session, made on first use (it belongs to the running event loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                # No cap across endpoints: each has its own limit, and a slow one must not
                # hold connections another needs.
                connector=aiohttp.TCPConnector(limit=0),
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
                # Bytes as they came: an answer is never inflated, so never a bomb.
                auto_decompress=False,
                trust_env=False,
            )
        return self._session

    async def _checked_address(self, target: URL) -> tuple[IPAddress | None, str]:
        host, port = target.host or "", target.port or 443
        try:
            addresses = await self._resolve(host, port)
        except OSError:
            return None, f"{host} does not resolve"
        if not addresses:
            return None, f"{host} does not resolve"
        for address in addresses:
            reason = refusal(address, self._allowed)
            if reason is not None:
                return None, f"{host}: {reason}"
        return addresses[0], ""


async def _read_some(response: aiohttp.ClientResponse) -> None:
    """Up to MAX_ANSWER_BYTES of the answer: what a receiver says is not ours to store."""
    read = 0
    while read < MAX_ANSWER_BYTES:
        chunk = await response.content.read(MAX_ANSWER_BYTES - read)
        if not chunk:
            return
        read += len(chunk)


def _host_header(target: URL) -> str:
    host = target.raw_host or ""
    host = f"[{host}]" if ":" in host else host
    return host if target.explicit_port is None else f"{host}:{target.explicit_port}"


def _outcome(started: float, status: int | None, error: str | None) -> Outcome:
    return Outcome(status, error, round((time.perf_counter() - started) * 1000))
