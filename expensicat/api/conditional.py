"""Entity tags (RFC 9110): ETag values, If-Match and If-None-Match."""

from __future__ import annotations

# Versions are stored as 32-bit integers: no tag past this one was ever issued.
_MAX_VERSION = 2**31 - 1


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None when any version will do.

    If-Match compares strongly, character for character, so weak tags and tags that are
    not exactly one we issued ("01", a number past any version) match nothing, and the
    request then fails its precondition.
    """
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        version = _issued_version(tag.strip())
        if version is not None:
            versions.add(version)
    return frozenset(versions)


def _issued_version(tag: str) -> int | None:
    inner = tag[1:-1]
    if not (tag[:1] == tag[-1:] == '"' and inner.isascii() and inner.isdigit()):
        return None
    if len(inner) > len(str(_MAX_VERSION)):
        return None
    version = int(inner)
    if version > _MAX_VERSION or etag(version) != tag:
        return None
    return version


def none_match(header: str | None, current: str) -> bool:
    """True when If-None-Match names the current tag (weak comparison) or is `*`."""
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or current in tags
