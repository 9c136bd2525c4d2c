"""Page cursors: opaque, and valid only for the organization and search they were issued for."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expensicat.paging import CursorSigner, InvalidCursor, Position

KEY = b"k" * 32
POSITION = Position(value="2026-01-02T03:04:05.123456Z", id="0195a2b4-0000-7000-8000-000000000001")
SIGNER = CursorSigner(KEY)


def issued(org: str = "org-a", search: str = "acme") -> str:
    return SIGNER.encode(POSITION, org, search)


class TestCursorSigner:
    def test_round_trip_gives_back_the_position(self) -> None:
        assert SIGNER.decode(issued(), "org-a", "acme") == POSITION

    def test_is_url_safe_and_opaque(self) -> None:
        cursor = issued()

        assert cursor.isascii()
        assert not set(cursor) - set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
        assert POSITION.id not in cursor

    def test_other_organization_is_refused(self) -> None:
        with pytest.raises(InvalidCursor):
            SIGNER.decode(issued(org="org-a"), "org-b", "acme")

    @pytest.mark.parametrize("search", ["", "acm", "acme corp", "ACME"])
    def test_other_search_is_refused(self, search: str) -> None:
        with pytest.raises(InvalidCursor):
            SIGNER.decode(issued(search="acme"), "org-a", search)

    def test_organization_and_search_cannot_trade_characters(self) -> None:
        cursor = SIGNER.encode(POSITION, "org-a", "b")

        with pytest.raises(InvalidCursor):
            SIGNER.decode(cursor, "org-", "ab")

    def test_other_key_is_refused(self) -> None:
        with pytest.raises(InvalidCursor):
            CursorSigner(b"z" * 32).decode(issued(), "org-a", "acme")

    @pytest.mark.parametrize("cursor", ["", "=", "a", "!!!!", "é", "AAAA", "x" * 1000])
    def test_garbage_is_refused(self, cursor: str) -> None:
        with pytest.raises(InvalidCursor):
            SIGNER.decode(cursor, "org-a", "acme")

    def test_truncated_cursor_is_refused(self) -> None:
        cursor = issued()

        for end in range(len(cursor)):
            with pytest.raises(InvalidCursor):
                SIGNER.decode(cursor[:end], "org-a", "acme")

    @given(st.data())
    def test_any_edit_is_refused(self, data: st.DataObject) -> None:
        cursor = issued()
        index = data.draw(st.integers(0, len(cursor) - 1))
        replacement = data.draw(st.sampled_from("AQgw-_09zZ").filter(lambda c: c != cursor[index]))
        edited = cursor[:index] + replacement + cursor[index + 1 :]

        with pytest.raises(InvalidCursor):
            SIGNER.decode(edited, "org-a", "acme")

    @pytest.mark.parametrize(
        "edit",
        [
            lambda cursor: cursor + "==",
            lambda cursor: cursor[:10] + "!!" + cursor[10:],
            lambda cursor: cursor[:10] + " " + cursor[10:],
            lambda cursor: cursor.replace("-", "+").replace("_", "/"),
        ],
        ids=["padded", "stray characters", "a space", "standard alphabet"],
    )
    def test_other_spellings_of_the_same_bytes_are_refused(
        self, edit: Callable[[str], str]
    ) -> None:
        cursor = SIGNER.encode(Position(value="2026-01-02T03:04:05Z", id="~~~~>>>>"), "o", "")
        assert "-" in cursor or "_" in cursor

        with pytest.raises(InvalidCursor):
            SIGNER.decode(edit(cursor), "o", "")
