"""fold(): the one normalization both the stored names and the search term go through."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expensicat.customers.search import fold


class TestFold:
    @pytest.mark.parametrize(
        ("text", "folded"),
        [
            ("The ACME Corp", "the acme corp"),
            ("Müller GmbH", "muller gmbh"),
            ("São Paulo Ltda", "sao paulo ltda"),
            ("Hauptstraße", "hauptstrasse"),
            ("ﬁsh", "fish"),
            ("İstanbul", "istanbul"),
            ("Ångström", "angstrom"),
            ("ΣΟΦΊΑ", "σοφια"),
            ("e\u0301", "e"),
            ("100% _\\", "100% _\\"),
        ],
    )
    def test_drops_case_and_accents(self, text: str, folded: str) -> None:
        assert fold(text) == folded

    def test_composed_and_decomposed_forms_fold_alike(self) -> None:
        composed = unicodedata.normalize("NFC", "Crème Brûlée")
        decomposed = unicodedata.normalize("NFD", "Crème Brûlée")

        assert composed != decomposed
        assert fold(composed) == fold(decomposed)

    @given(st.text(), st.text())
    def test_folds_piece_by_piece_so_substrings_stay_substrings(
        self, left: str, right: str
    ) -> None:
        assert fold(left + right) == fold(left) + fold(right)

    @given(st.text())
    def test_is_idempotent_and_leaves_no_combining_marks(self, text: str) -> None:
        folded = fold(text)

        assert fold(folded) == folded
        assert not any(unicodedata.combining(char) for char in folded)
