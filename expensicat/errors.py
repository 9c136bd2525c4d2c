"""Failures any feature's service reports, independent of how it is served."""

from __future__ import annotations


class ValidationFailed(Exception):
    """Input broke one or more rules; `details` maps each field to its messages."""

    def __init__(self, details: dict[str, list[str]]) -> None:
        super().__init__("validation failed")
        self.details = details


class NotFound(Exception):
    """No such `resource` in the caller's organization."""

    resource = "resource"


class VersionMismatch(Exception):
    """The record changed since the version the caller based its edit on; `current` is the
    version it has now, so the caller can read it again and retry."""

    resource = "resource"

    def __init__(self, current: int) -> None:
        super().__init__(f"the current version is {current}")
        self.current = current


class Expired(Exception):
    """A position in a feed older than what the service keeps: the caller must start over."""
