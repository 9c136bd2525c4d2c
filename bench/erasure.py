"""What an erasure costs once a customer has a history: 100 changes, then DELETE, timed."""

from __future__ import annotations

import statistics
import time

import httpx

from bench.fixtures import API

CHANGES_BEFORE = 100
ROUNDS = 20
LIMIT_MS = 50.0


def erase_note(base_url: str, token: str) -> str:
    """Erase ROUNDS customers of CHANGES_BEFORE changes each, one request at a time; the
    median and slowest erasure against the limit."""
    timings = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for round_number in range(ROUNDS):
            created = client.post(API, json={"name": f"Erased {round_number}"})
            url = f"{API}/{created.json()['data']['id']}"
            for change in range(CHANGES_BEFORE - 1):
                client.patch(url, json={"notes": f"change {change}"}).raise_for_status()
            started = time.perf_counter()
            erased = client.delete(url)
            timings.append((time.perf_counter() - started) * 1000)
            if erased.status_code != 204:
                raise httpx.HTTPStatusError("erase failed", request=erased.request, response=erased)
    slowest = max(timings)
    met = "met" if slowest < LIMIT_MS else "NOT met"
    return (
        f"erase a customer with {CHANGES_BEFORE} changes: median "
        f"{statistics.median(timings):.1f} ms, slowest {slowest:.1f} ms of {ROUNDS} "
        f"(limit {LIMIT_MS:g} ms: {met})"
    )
