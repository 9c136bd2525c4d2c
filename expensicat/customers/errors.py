"""What can go wrong in the customers domain, independent of how it is served."""

from __future__ import annotations

from expensicat.errors import NotFound, VersionMismatch


class CustomerNotFound(NotFound):
    """No such customer in the caller's organization."""

    resource = "customer"


class CustomerChanged(VersionMismatch):
    """The customer changed since the version the caller based its edit on."""

    resource = "customer"
