"""Satisfaction ratings: plain counts written with the turn, never linked to a family."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from storage_support import T0, message, open_store, raw_query, raw_update, turn
from support import Clock

from storage.crypto.keys import KeyRing
from storage.errors import InvalidRecordError, StorageError
from storage.flowhost.ratings import NewRating
from storage.records import CaseOpen
from storage.store import Store

RATED = NewRating("2026-03", 4, "kdrt", "darurat")


async def rated_turn(store: Store, address: str, rating: NewRating) -> int:
    """A family's message whose turn carries a rating; the contact's id."""
    contact, inbox_id = await store.turns.receive("telegram", address, message(f"r-{address}"))
    assert inbox_id is not None
    await store.turns.commit_turn(dataclasses.replace(turn(contact.id, inbox_id), rating=rating))
    return contact.id


async def test_ratings_are_counted_by_month_with_codes_and_nothing_else(
    store: Store, db_path: Path
) -> None:
    for n, rating in enumerate([RATED, RATED, NewRating("2026-03", 2), NewRating("2026-04", 5)]):
        await rated_turn(store, f"70{n}", rating)
    march = await store.ratings.month("2026-03")
    assert march.by_rating == ((1, 0), (2, 1), (3, 0), (4, 2), (5, 0))
    assert march.total == 3 and march.mean == pytest.approx(10 / 3)
    assert march.share_helpful == pytest.approx(2 / 3)
    assert (await store.ratings.month("2026-05")).total == 0
    assert (await store.ratings.month("2026-05")).mean is None
    columns = [row[1] for row in raw_query(db_path, "PRAGMA table_info(rating_counts)")]
    # no contact, no time: the office is a number
    assert columns == ["office_id", "month", "category", "urgency", "rating", "count"]
    assert raw_query(
        db_path,
        "SELECT month, category, urgency, rating, count FROM rating_counts ORDER BY month, rating",
    ) == [
        ("2026-03", "", "", 2, 1),
        ("2026-03", "kdrt", "darurat", 4, 2),
        ("2026-04", "", "", 5, 1),
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"month": "2026-3"}, "not YYYY-MM"),
        ({"month": "2026-13"}, "not YYYY-MM"),
        ({"rating": 0}, "from 1 to 5"),
        ({"rating": 6}, "from 1 to 5"),
        ({"rating": True}, "from 1 to 5"),
        ({"category": "Jadwalnya terlalu lama."}, "not a category code"),
        ({"urgency": "gawat"}, "not one of"),
    ],
)
def test_a_rating_holds_only_codes(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidRecordError, match=problem):
        dataclasses.replace(RATED, **fields)  # type: ignore[arg-type]


async def test_a_turn_that_fails_before_its_commit_counts_no_rating(
    store: Store, db_path: Path
) -> None:
    contact, inbox_id = await store.turns.receive("telegram", "711", message("f1"))
    assert inbox_id is not None
    # The last write of the turn (the processed mark) fails, after the rating was counted.
    raw_update(
        db_path,
        "CREATE TRIGGER disk_trouble BEFORE UPDATE OF processed_at ON inbox"
        " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
    )
    write = dataclasses.replace(turn(contact.id, inbox_id, state='{"rated": false}'), rating=RATED)
    with pytest.raises(StorageError):
        await store.turns.commit_turn(write)
    assert raw_query(db_path, "SELECT count(*) FROM rating_counts") == [(0,)]
    assert await store.sessions.get(contact.id) is None, "nothing of the turn was written"
    raw_update(db_path, "DROP TRIGGER disk_trouble")
    await store.turns.commit_turn(write)  # processed again, e.g. after a restart
    await store.turns.commit_turn(
        write
    )  # and a repeat of an already processed turn changes nothing
    assert (await store.ratings.month("2026-03")).by_rating[3] == (4, 1)


async def test_an_erasure_leaves_the_counts_which_hold_nothing_personal(
    store: Store, db_path: Path
) -> None:
    contact_id = await rated_turn(store, "712", RATED)
    contact, inbox_id = await store.turns.receive("telegram", "712", message("c1"))
    assert inbox_id is not None
    await store.turns.commit_turn(turn(contact.id, inbox_id, cases=(CaseOpen("kdrt", "darurat"),)))
    assert await store.erasure.erase(contact_id, reason="purge", actor="cli", why="asked")
    assert raw_query(db_path, "SELECT count(*) FROM contacts") == [(0,)]
    assert (await store.ratings.month("2026-03")).total == 1


async def test_the_counts_survive_a_reopen(db_path: Path, keyring: KeyRing) -> None:
    clock = Clock(T0)
    async with await open_store(db_path, keyring, clock=clock) as store:
        await rated_turn(store, "713", RATED)
    async with await open_store(db_path, keyring, clock=clock) as store:
        assert (await store.ratings.month("2026-03")).total == 1
        with pytest.raises(InvalidRecordError, match="not YYYY-MM"):
            await store.ratings.month("maret")
