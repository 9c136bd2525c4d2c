"""A reproducible customer book: many organizations, one big one, rows in arrival order.

Rows are produced as tuples in the stores' column order (the public fields, then
`name_search`, folded exactly as the service folds it), with UUIDv7 ids whose time part
matches `created_at`. Organizations are interleaved over time, as real sign-ups are, so
one organization's rows are spread over the whole table rather than stored together.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.names import ACME_ROOTS, ACME_TAILS, LOCALES, NOTES, Locale
from expensicat.customers.fields import PUBLIC_FIELDS
from expensicat.customers.search import fold

# What a seeded row sets: every public field but archived_at (seeded customers are active).
COLUMNS: tuple[str, ...] = (*(f for f in PUBLIC_FIELDS if f != "archived_at"), "name_search")
API_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
BIG_ORG = "org-bench-big"
HUGE_ORG = "org-bench-huge"
# Creates go to an organization of their own, so that the big one keeps its seeded names.
WRITES_ORG = "org-bench-writes"
SEARCH_TERM = "acm"
# The terms of the bulk-import comparison: two common ones, one in a name in 10,000, and one
# in no name at all.
COMMON_TERMS = ("acm", "muller")
SPARSE_TERM = "zephyr"
ABSENT_TERM = "xqzw"
SEARCH_TERMS = (*COMMON_TERMS, SPARSE_TERM, ABSENT_TERM)

# Roughly one customer in a hundred is an Acme lookalike, so `q=acm` finds a realistic few.
ACME_SHARE = 0.01
SPARSE_SHARE = 0.0001
PERSON_SHARE = 0.35
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HISTORY = timedelta(days=3 * 365)

MAILBOXES = ("info", "billing", "accounts", "rechnung", "facturation", "contato", "biuro")
DOMAINS = ("nordwind", "solaris", "atlas", "vertex", "orion", "kontor", "meridian", "polaris")
UNITS = ("2. OG", "Bât. B", "apt. 3", "Suite 200", "lok. 5", "Daire 7")
STATES = {"US": ("CA", "NY", "TX", "WA"), "BR": ("SP", "RJ", "SC"), "DE": ("Bayern", "Hessen")}
TLDS = {"BR": "com.br", "TR": "com.tr", "JP": "co.jp", "US": "com"}

Stamp = Callable[[datetime], Any]


@dataclass(frozen=True, slots=True)
class Layout:
    """How many customers, over how many organizations, and the size of the big one."""

    customers: int
    organizations: int
    big_org: int

    def owners(self, rng: random.Random) -> list[str]:
        """The organization of each row, in arrival order: exact counts, shuffled."""
        others = [f"org-bench-{n:03d}" for n in range(1, self.organizations)]
        rest = self.customers - self.big_org
        owners = [BIG_ORG] * self.big_org
        for index, org in enumerate(others):
            owners += [org] * (rest // len(others) + (index < rest % len(others)))
        rng.shuffle(owners)
        return owners


@dataclass(slots=True)
class Generated:
    """What the benchmark needs to know about the rows it stored."""

    rows: int = 0
    matches: int = 0
    # (created_at as the API shows it, id) of every row of the tracked organization,
    # when asked for.
    keys: list[tuple[str, str]] | None = field(default_factory=list)


class CustomerFactory:
    def __init__(self, seed: int, end: datetime) -> None:
        self._rng = random.Random(seed)
        self._end = end

    def owners(self, layout: Layout) -> list[str]:
        return layout.owners(self._rng)

    def rows(
        self,
        owners: list[str],
        stamp: Stamp,
        tracked: str,
        report: Generated,
        history: timedelta = HISTORY,
    ) -> Iterator[tuple[Any, ...]]:
        """One row per owner, `created_at` rising over the `history` before the end."""
        rng = self._rng
        step = int(history / timedelta(microseconds=1)) // max(len(owners), 1)
        start = int((self._end - history - EPOCH) / timedelta(microseconds=1))
        for index, org in enumerate(owners):
            micros = start + index * step + rng.randrange(max(step, 1))
            created = EPOCH + timedelta(microseconds=micros)
            customer_id = _uuid7(micros // 1000, rng.getrandbits(74))
            name, fields = self._fields(rng.choice(LOCALES))
            name_search = fold(name)
            report.rows += 1
            if org == tracked:
                report.matches += SEARCH_TERM in name_search
                if report.keys is not None:
                    report.keys.append((created.strftime(API_TIME), customer_id))
            when = stamp(created)
            yield (customer_id, org, name, *fields[:-1], when, when, fields[-1], name_search)

    def _fields(self, locale: Locale) -> tuple[str, tuple[str | None, ...]]:
        """The name, and the other writable fields in column order (country_code last)."""
        rng = self._rng
        chance = rng.random
        is_person = chance() < PERSON_SHARE
        name = self._person(locale) if is_person else self._company(locale)
        cc = locale.country_code
        address: tuple[str | None, ...] = (None,) * 6
        if chance() < 0.75:
            address = (
                f"{rng.choice(locale.streets)} {rng.randrange(1, 200)}",
                rng.choice(UNITS) if chance() < 0.1 else None,
                locale.country,
                rng.choice(locale.cities),
                rng.choice(STATES[cc]) if cc in STATES else None,
                str(rng.randrange(10000, 99999)),
            )
        return name, (
            f"{rng.choice(MAILBOXES)}@{self._domain(cc)}" if chance() < 0.85 else None,
            f"{locale.phone_prefix} {rng.randrange(10**8, 10**9)}" if chance() < 0.7 else None,
            f"https://www.{self._domain(cc)}" if chance() < 0.35 else None,
            self._person(locale) if not is_person and chance() < 0.4 else None,
            *address,
            f"{cc}{rng.randrange(10**8, 10**9)}" if chance() < 0.5 else None,
            rng.choice(NOTES) if chance() < 0.05 else None,
            cc if chance() < 0.8 else None,
        )

    def _person(self, locale: Locale) -> str:
        first, last = self._rng.choice(locale.first_names), self._rng.choice(locale.last_names)
        return locale.joiner.join((last, first) if locale.family_first else (first, last))

    def _company(self, locale: Locale) -> str:
        rng = self._rng
        form = rng.choice(locale.company_forms)
        if rng.random() < ACME_SHARE / (1 - PERSON_SHARE):
            return f"{rng.choice(ACME_ROOTS)} {rng.choice(ACME_TAILS)} {form}"
        if rng.random() < SPARSE_SHARE / (1 - PERSON_SHARE):
            return f"Zephyrine {rng.choice(locale.last_names)} {form}"
        word, last = rng.choice(locale.company_words), rng.choice(locale.last_names)
        if locale.family_first:
            return locale.joiner.join((form, last, word))
        if rng.random() < 0.4:
            return f"{last} {form}"
        return f"{word} {last} {form}"

    def _domain(self, country_code: str) -> str:
        tld = TLDS.get(country_code, country_code.lower())
        return f"{self._rng.choice(DOMAINS)}{self._rng.randrange(1000)}.{tld}"


def without_terms(
    rows: Iterator[tuple[Any, ...]], count: int, terms: tuple[str, ...]
) -> Iterator[tuple[Any, ...]]:
    """The first `count` rows whose folded name (the last column) holds none of the terms."""
    kept = (row for row in rows if not any(term in row[-1] for term in terms))
    for _, row in zip(range(count), kept, strict=False):
        yield row


def _uuid7(millis: int, random_bits: int) -> str:
    """RFC 9562 version 7: 48 bits of Unix milliseconds, version, variant, 74 random bits."""
    value = (
        (millis << 80)
        | (0x7 << 76)
        | ((random_bits >> 62) << 64)
        | (0b10 << 62)
        | (random_bits & ((1 << 62) - 1))
    )
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
