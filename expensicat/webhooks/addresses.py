"""Where a delivery may connect: never to this host, the private network, link-local
addresses (the cloud metadata service among them) or any other address not meant to be
reached from outside, unless an operator opened that range. Decided per address, after the
name is resolved, for the very address the connection then goes to."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def refusal(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why a delivery may not connect to `address`; None when it may."""
    if any(address in network for network in allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _nat64(address)
        if embedded is not None:
            reason = refusal(embedded, allowed)
            return None if reason is None else f"{reason} (inside {address})"
    for kind, applies in _CLASSES:
        if applies(address):
            return f"{address} is a {kind} address"
    return None


_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_CLASSES = (
    # The narrowest first: Python counts most of these as private too.
    ("loopback", lambda a: a.is_loopback),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("unspecified", lambda a: a.is_unspecified),
    ("reserved", lambda a: a.is_reserved),
    ("shared (carrier-grade NAT)", lambda a: a in _SHARED),
    ("private", lambda a: a.is_private),
    ("non-global", lambda a: not a.is_global),
)


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def networks(listed: str) -> tuple[IPNetwork, ...]:
    """CIDRs separated by commas, as EXPENSICAT_WEBHOOK_ALLOWED_NETWORKS lists them."""
    return tuple(
        ipaddress.ip_network(cidr.strip(), strict=False)
        for cidr in listed.split(",")
        if cidr.strip()
    )
