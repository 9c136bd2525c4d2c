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

import httpx

from expensicat.webhooks.addresses import IPAddress, IPNetwork, refusal

TIMEOUT_SECONDS = 10.0
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
    """Every address the name has, as the system resolver gives them."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(entry[4][0]) for entry in found))


class Sender:
    def __init__(
        self,
        allowed: Sequence[IPNetwork] = (),
        timeout: float = TIMEOUT_SECONDS,
        resolver: Resolver = resolve,
    ) -> None:
        self._allowed = tuple(allowed)
        self._resolve = resolver
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=timeout,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        started = time.perf_counter()
        try:
            target = httpx.URL(url)
            address, reason = await self._checked_address(target)
            if address is None:
                return _outcome(started, None, f"refused: {reason}")
            pinned = target.copy_with(host=str(address))
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            request = self._client.build_request(
                "POST",
                pinned,
                content=body,
                headers={
                    **headers,
                    "Host": _host_header(target),
                    "Content-Type": "application/json",
                },
                extensions=extensions,
            )
            response = await self._client.send(request, stream=True)
            try:
                await _read_some(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return _outcome(started, None, "timed out")
        except (httpx.HTTPError, OSError, ValueError) as error:
            return _outcome(started, None, f"could not connect: {type(error).__name__}")
        status = response.status_code
        return _outcome(started, status, None if 200 <= status < 300 else f"answered {status}")

    async def _checked_address(self, target: httpx.URL) -> tuple[IPAddress | None, str]:
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            addresses = await self._resolve(target.host, port)
        except OSError:
            return None, f"{target.host} does not resolve"
        if not addresses:
            return None, f"{target.host} does not resolve"
        for address in addresses:
            reason = refusal(address, self._allowed)
            if reason is not None:
                return None, f"{target.host}: {reason}"
        return addresses[0], ""


async def _read_some(response: httpx.Response) -> None:
    """Up to MAX_ANSWER_BYTES of the answer: what a receiver says is not ours to store."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= MAX_ANSWER_BYTES:
            return


def _host_header(target: httpx.URL) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port is None else f"{host}:{target.port}"


def _outcome(started: float, status: int | None, error: str | None) -> Outcome:
    return Outcome(status, error, round((time.perf_counter() - started) * 1000))
