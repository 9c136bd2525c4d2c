"""Entity tags (RFC 9110): ETag values, If-Match and If-None-Match."""

from __future__ import annotations

import re

from expensicat.errors import ValidationFailed

# Versions are stored as 32-bit integers: no tag past this one was ever issued.
_MAX_VERSION = 2**31 - 1
# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110), its characters kept to ASCII; an
# If-Match header is `*` or a comma-separated list of them. The OpenAPI document states the
# same pattern.
_ENTITY_TAG = r'(?:W/)?"[!#-~]*"'
IF_MATCH_PATTERN = f"^(?:\\*|{_ENTITY_TAG}(?: *, *{_ENTITY_TAG})*)$"
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
_TAGS = re.compile(_ENTITY_TAG)


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None when any version will do.

    If-Match compares strongly, character for character, so weak tags and tags that are
    not exactly one we issued ("01", a number past any version) match nothing, and the
    request then fails its precondition. A header that is neither `*` nor a list of entity
    tags is a malformed request, not a failed precondition.
    """
    if header is None or header.strip() == "*":
        return None
    if not _IF_MATCH.fullmatch(header.strip(" \t")):
        raise ValidationFailed(
            {"If-Match": ['Must be * or a list of entity tags, such as "3" (with the quotes).']}
        )
    tags = _TAGS.findall(header)
    return frozenset(version for tag in tags if (version := _issued_version(tag)) is not None)


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
