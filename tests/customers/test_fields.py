"""The customer's fields: the whitespace list the schemas and the database rules use."""

from __future__ import annotations

import sys

from expensicat.customers.fields import WHITESPACE


def test_whitespace_is_exactly_what_str_strip_trims() -> None:
    assert tuple(code for code in range(sys.maxunicode + 1) if chr(code).isspace()) == WHITESPACE
