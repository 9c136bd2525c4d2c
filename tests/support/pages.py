"""Walking a list to its end by following `meta.next_cursor`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Api

# Far more pages than any test creates: a walk that goes on longer is looping.
MAX_PAGES = 500


def walk(
    api: Api,
    limit: int | Callable[[], int],
    q: str | None = None,
    between_pages: Callable[[], object] | None = None,
) -> list[dict[str, Any]]:
    """Every customer a walk returns, page after page, checking each page's envelope.

    `limit` may be a function, so that each page asks for a different size; `between_pages`
    runs after each page, for writes that happen while a client is paging.
    """
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        size = limit() if callable(limit) else limit
        params: dict[str, Any] = {"limit": size}
        if q is not None:
            params["q"] = q
        if cursor is not None:
            params["cursor"] = cursor
        page = api.list(**params)
        assert page["meta"]["count"] == len(page["data"]) <= size
        seen += page["data"]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            return seen
        assert isinstance(cursor, str)
        assert cursor
        assert page["meta"]["count"] == size  # only the last page may be short
        if between_pages is not None:
            between_pages()
    raise AssertionError(f"the walk did not end within {MAX_PAGES} pages")


def ids(customers: list[dict[str, Any]]) -> list[str]:
    return [customer["id"] for customer in customers]
