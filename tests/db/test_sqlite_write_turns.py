"""Processes writing to one SQLite file take turns: a writer waits while another holds its
turn, and goes as soon as it is given back. Two openings of the lock file stand for two
processes here: the kernel's lock belongs to each opening, as it does to each process."""

from __future__ import annotations

import threading
from pathlib import Path

from expensicat.db.sqlite import WriteTurns


def test_a_writer_waits_for_the_turn_another_holds_and_then_goes(tmp_path: Path) -> None:
    database = tmp_path / "expensicat.db"
    first, second = WriteTurns(database), WriteTurns(database)
    went: list[str] = []
    second_went = threading.Event()

    def write_second() -> None:
        with second.taken():
            went.append("second")
            second_went.set()

    try:
        with first.taken():
            writer = threading.Thread(target=write_second)
            writer.start()
            waited = not second_went.wait(0.3)
            went.append("first")
        writer.join(5)
    finally:
        first.close()
        second.close()

    assert waited
    assert went == ["first", "second"]
    assert (tmp_path / "expensicat.db.write-turns").exists()


def test_a_turn_is_taken_again_after_it_is_given_back(tmp_path: Path) -> None:
    turns = WriteTurns(tmp_path / "expensicat.db")
    try:
        for _ in range(3):
            with turns.taken():
                pass
    finally:
        turns.close()
