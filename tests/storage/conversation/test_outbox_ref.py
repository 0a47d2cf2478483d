"""OutboxRef: what a row is about, typed in code and stored as plain text."""

from __future__ import annotations

import pytest

from storage.errors import InvalidRecordError
from storage.records import OutboxRef


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("alerts:7", OutboxRef("alerts", 7)),
        ("case:12:alert", OutboxRef("case", 12, "alert")),
        ("case:12:edit:40", OutboxRef("case", 12, "edit", "40")),
        ("case:3:copy:99", OutboxRef("case", 3, "copy", "99")),
        ("booking:5:day_before", OutboxRef("booking", 5, "day_before")),
    ],
)
def test_a_ref_is_stored_as_its_text_and_read_back_the_same(text: str, ref: OutboxRef) -> None:
    assert str(ref) == text
    assert OutboxRef.parse(text) == ref


@pytest.mark.parametrize("text", [None, "", "case", "case:x:edit", "Case:1", ":1", "case:-1"])
def test_a_text_of_another_shape_is_no_ref(text: str | None) -> None:
    assert OutboxRef.parse(text) is None


def test_a_ref_refuses_what_would_not_read_back() -> None:
    with pytest.raises(InvalidRecordError):
        OutboxRef("case", 1, "edit:40")
    with pytest.raises(InvalidRecordError):
        OutboxRef("case", 1, "", "40")
    with pytest.raises(InvalidRecordError):
        OutboxRef("a:b", 1)


def test_the_like_pattern_finds_every_ref_of_a_kind() -> None:
    assert OutboxRef.like("booking") == "booking:%"
