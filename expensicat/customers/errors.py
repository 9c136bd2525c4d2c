"""What can go wrong in the customers domain, independent of how it is served."""

from __future__ import annotations


class CustomerNotFound(Exception):
    """No such customer in the caller's organization."""


class ValidationFailed(Exception):
    """Input broke one or more rules; `details` maps each field to its messages."""

    def __init__(self, details: dict[str, list[str]]) -> None:
        super().__init__("validation failed")
        self.details = details


class VersionMismatch(Exception):
    """The customer changed since the version the caller based its edit on."""


class IdempotencyKeyInUse(Exception):
    """A create with this idempotency key is still in flight."""


class IdempotencyKeyReused(Exception):
    """The idempotency key was already used with a different request body."""
