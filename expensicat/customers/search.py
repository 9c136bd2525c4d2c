"""Name folding, so that search ignores case and accents the same way on every database."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Unicode NFKD, combining marks dropped, case-folded: "São Paulo" -> "sao paulo"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.casefold()
