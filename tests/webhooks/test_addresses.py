"""The address policy, as a table of addresses and verdicts, and the sender's use of it:
a refused name is never connected to. No socket is opened here but to the resolver stub."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from expensicat.webhooks.addresses import IPAddress, networks, refusal
from expensicat.webhooks.delivery import Sender, resolve

REFUSED = {
    "127.0.0.1": "loopback",
    "127.0.0.2": "loopback",
    "::1": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "fd00::1": "private",
    "169.254.169.254": "link-local",  # the cloud metadata service
    "fe80::1": "link-local",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "240.0.0.1": "reserved",
    "0.0.0.0": "unspecified",  # noqa: S104 (an address to refuse, not to bind)
    "::": "unspecified",
    "100.64.0.1": "shared",
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped
    "::ffff:169.254.169.254": "link-local",
    "64:ff9b::a9fe:a9fe": "link-local",  # NAT64 of 169.254.169.254
    "2002:7f00:1::": "loopback",  # 6to4 of 127.0.0.1
    "192.0.2.1": "private",  # documentation, which Python counts as private
}
ALLOWED = ["93.184.216.34", "2606:4700::1111", "8.8.8.8"]


@pytest.mark.parametrize(("address", "kind"), REFUSED.items())
def test_addresses_that_are_not_public_are_refused(address: str, kind: str) -> None:
    reason = refusal(ipaddress.ip_address(address))

    assert reason is not None
    assert kind in reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_an_allowed_network_opens_its_range_only() -> None:
    allowed = networks("127.0.0.1/32, 10.9.0.0/16")

    assert refusal(ipaddress.ip_address("127.0.0.1"), allowed) is None
    assert refusal(ipaddress.ip_address("10.9.4.4"), allowed) is None
    assert refusal(ipaddress.ip_address("127.0.0.2"), allowed) is not None
    assert refusal(ipaddress.ip_address("10.8.0.1"), allowed) is not None


@pytest.mark.parametrize(
    ("resolved", "allowed"),
    [
        (["127.0.0.1"], ""),  # a name that resolves to this host
        (["93.184.216.34", "10.0.0.1"], ""),  # one public address is not enough
        (["169.254.169.254"], "127.0.0.1/32"),
    ],
)
def test_a_name_that_resolves_to_a_refused_address_is_never_connected_to(
    resolved: list[str], allowed: str
) -> None:
    async def resolver(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(address) for address in resolved]

    async def send() -> tuple[int | None, str | None]:
        sender = Sender(networks(allowed), resolver=resolver)
        try:
            outcome = await sender.send("https://hooks.example.test/in", {}, b"{}")
        finally:
            await sender.close()
        return outcome.status_code, outcome.error

    status, error = asyncio.run(send())

    assert status is None
    assert error is not None
    assert error.startswith("refused: hooks.example.test")


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("127.0.0.1", ["127.0.0.1"]),
        ("::ffff:127.0.0.1", ["::ffff:7f00:1"]),  # kept as given, for the policy to judge
        ("127.1", ["127.0.0.1"]),  # a shorthand the system resolver reads as this host
        ("2130706433", ["127.0.0.1"]),  # and so is a plain number
    ],
)
def test_an_address_is_its_own_and_a_shorthand_is_resolved(host: str, addresses: list[str]) -> None:
    found = asyncio.run(resolve(host, 443))

    assert [str(address) for address in found] == addresses
