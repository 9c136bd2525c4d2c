"""Entity tags (RFC 9110): ETag values, If-Match and If-None-Match."""

from __future__ import annotations


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None when any version will do.

    If-Match compares strongly, so weak tags and tags that are no version of ours
    match nothing, and the request then fails its precondition.
    """
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        tag = tag.strip()
        inner = tag[1:-1]
        if len(tag) > 2 and tag[0] == tag[-1] == '"' and inner.isascii() and inner.isdigit():
            versions.add(int(inner))
    return frozenset(versions)


def none_match(header: str | None, current: str) -> bool:
    """True when If-None-Match names the current tag (weak comparison) or is `*`."""
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or current in tags
