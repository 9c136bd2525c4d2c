"""Database failures the HTTP layer answers with 503 rather than 500."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached or did not answer in time."""
