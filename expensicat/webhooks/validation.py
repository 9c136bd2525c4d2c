"""The rules of an endpoint's fields, each problem reported by field, all at once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from expensicat.errors import ValidationFailed
from expensicat.webhooks.records import ALL_EVENTS, EVENTS

MAX_URL_LENGTH = 2048
# A URL as the server takes it (and the OpenAPI document states it): a host name or IPv4
# address (letters, digits, dots and dashes), perhaps a port (0 to 65535), then a path or a
# query of printable characters but '#'. {scheme} is https, or https? where http is allowed.
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{{2}}|6[0-4][0-9]{{3}}|[1-5][0-9]{{4}}|[0-9]{{1,4}})"
URL_PATTERN = r"^{scheme}://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:" + _PORT + r")?([/?][!-\"$-~]*)?$"
MAX_DESCRIPTION_LENGTH = 255
CREATABLE = ("url", "events", "description")
UPDATABLE = (*CREATABLE, "enabled")


def parse_endpoint(body: Mapping[str, Any], creating: bool, allow_http: bool) -> dict[str, Any]:
    """The fields of a create (url and events required) or update body, checked."""
    problems: dict[str, list[str]] = {}
    allowed = CREATABLE if creating else UPDATABLE
    for name in body:
        if name not in allowed:
            problems[name] = [f"Unknown field; the fields are {', '.join(allowed)}."]
    if creating:
        for name in ("url", "events"):
            if name not in body:
                problems[name] = ["Required."]
    values: dict[str, Any] = {}
    checks: dict[str, Callable[[object], tuple[object, str | None]]] = {
        "url": lambda value: _url(value, allow_http),
        "events": _events,
        "description": _description,
        "enabled": _enabled,
    }
    for name, check in checks.items():
        if name in body and name in allowed:
            value, problem = check(body[name])
            if problem:
                problems[name] = [problem]
            else:
                values[name] = value
    if problems:
        raise ValidationFailed(problems)
    return values


def _url(value: object, allow_http: bool) -> tuple[str, str | None]:
    if not isinstance(value, str):
        return "", "Must be a string."
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        return "", f"Must be at most {MAX_URL_LENGTH} characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is no number)
    except ValueError:
        return "", "Must be a URL, such as https://example.com/webhooks."
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        return "", "Must be an https URL." if not allow_http else "Must be an http(s) URL."
    if not parts.hostname:
        return "", "Must name a host, such as https://example.com/webhooks."
    if parts.username is not None or parts.password is not None:
        return "", "Must not carry credentials: put them in the path or query, if at all."
    if parts.fragment:
        return "", "Must not have a fragment (#...)."
    if any(character.isspace() for character in url):
        return "", "Must not contain spaces."
    if not re.fullmatch(URL_PATTERN.format(scheme="https?"), url):
        return "", "Must be a URL, such as https://example.com/webhooks."
    return url, None


def _events(value: object) -> tuple[list[str], str | None]:
    if not isinstance(value, list) or not all(isinstance(event, str) for event in value):
        return [], 'Must be a list of event types, or ["*"] for all of them.'
    if not value:
        return [], 'Must name at least one event type, or ["*"] for all of them.'
    events = list(dict.fromkeys(value))
    if len(events) < len(value):
        return [], "Must name each event type once."
    if ALL_EVENTS in events:
        if len(events) > 1:
            return [], '"*" stands for every event type: give it alone.'
        return events, None
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        return [], f"Unknown event type {unknown[0]!r}; the types are {', '.join(EVENTS)}."
    return events, None


def _description(value: object) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, "Must be a string or null."
    text = value.strip()
    if len(value) > MAX_DESCRIPTION_LENGTH:
        return None, f"Must be at most {MAX_DESCRIPTION_LENGTH} characters."
    if "\x00" in text:
        return None, "Must not contain NUL characters."
    return text or None, None


def _enabled(value: object) -> tuple[bool, str | None]:
    if not isinstance(value, bool):
        return False, "Must be true or false."
    return value, None
