"""Time to first human reply: the 90th percentile beside the median, by urgency."""

from __future__ import annotations

import pytest
from storage_support import T0, at
from test_storage_cases_handoff import nothing, open_case, staff_id

from storage.handoff.figures import nearest_rank
from storage.store import Store


@pytest.mark.parametrize(
    ("values", "p90"),
    [
        ([], None),
        ([7.0], 7.0),
        ([float(n) for n in range(1, 11)], 9.0),
        ([float(n) for n in range(10, 0, -1)], 9.0),  # order does not matter
        ([1.0, 2.0, 3.0, 4.0, 100.0], 100.0),  # nearest rank: never below nine in ten
        ([float(n) for n in range(1, 101)], 90.0),
    ],
)
def test_the_90th_percentile_is_thenearest_rank(values: list[float], p90: float | None) -> None:
    assert nearest_rank(values, 0.9) == p90


async def test_figures_give_the_90th_percentile_per_urgency(store: Store) -> None:
    sari = await staff_id(store, "sari")
    for n in range(1, 11):  # ten urgent cases answered after 10, 20, ... 100 seconds
        case = await open_case(store, str(n), "darurat", n * 1000)
        await store.handoff.take(case.id, sari, at(n * 1000 + 1), nothing)
        await store.handoff.relay(case.id, sari, f"out:{n}", at(n * 1000 + n * 10), [])
    await open_case(store, "99", "biasa", 5)  # opened, never answered
    figures = await store.handoff.figures(T0, at(20_000), target_seconds=300)
    urgent, ordinary = figures.by_urgency[0], figures.by_urgency[-1]
    assert (urgent.urgency, urgent.median_first_reply_seconds) == ("darurat", 55.0)
    assert urgent.p90_first_reply_seconds == 90.0
    assert (ordinary.urgency, ordinary.p90_first_reply_seconds) == ("biasa", None)
