"""A person's plain text is read straight from the update's JSON, exactly as the library
would read it; everything else is left to python-telegram-bot.

Most updates are a typed line in a private chat, and building the library's objects
for one cost more CPU than storing it (bot.channels.telegram.receive `PlainText`). So
these specs hold the shortcut to two promises: the same `Inbound`s as the library's
reading for every update it takes, and any update it is not sure of is not taken.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot, Update

from bot.channels.telegram.receive import message_inbounds, plain_inbounds, plain_text

BOT = Bot("123456:TEST")


def update(text: Any = "halo", **message: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": 41,
        "from": {"id": 7001, "is_bot": False, "first_name": "Ibu"},
        "chat": {"id": 7001, "type": "private", "first_name": "Ibu"},
        "date": 1_765_000_000,
        "text": text,
    }
    body.update(message)
    return {"update_id": 900, "message": {k: v for k, v in body.items() if v is not None}}


def as_the_library_reads_it(item: dict[str, Any]) -> list[Any]:
    parsed = Update.de_json(item, BOT)
    assert parsed is not None and parsed.message is not None
    return message_inbounds(parsed.message)


@pytest.mark.parametrize(
    "item",
    [
        update(),
        update("saya butuh bantuan 🙏 — tolong"),
        update("/start"),
        update("/start tual"),
        update("/START@lk3_bot   malteng  "),
        update("x" * 5000),
        update("\u202e\u0000 odd"),
    ],
)
def test_a_plain_text_gives_the_same_inbounds_as_the_librarys_reading(item: dict[str, Any]) -> None:
    plain = plain_text(item)
    assert plain is not None
    assert plain.update_id == 900
    assert plain_inbounds(plain) == as_the_library_reads_it(item)


@pytest.mark.parametrize(
    ("item", "why"),
    [
        (update(chat={"id": -100, "type": "group"}), "a group"),
        (update(**{"from": {"id": 1, "is_bot": True, "first_name": "b"}}), "a bot"),
        (update(**{"from": None}), "no sender"),
        (
            update(
                text=None,
                photo=[{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}],
                caption="tolong",
            ),
            "a photo",
        ),
        (update(text=12), "a text that is a number"),
        (update(date="2026-12-08"), "a date that is a string"),
        (update(date=10**20), "a date past any calendar"),
        (
            update(forward_origin={"type": "hidden_user", "date": 1, "sender_user_name": "x"}),
            "a field it does not know",
        ),
        (update(reply_to_message={"text": "no id"}), "a reply without the message it answers"),
        (update(message_id=True), "an id that is a boolean"),
        (update(entities=[{"type": "url", "offset": 6, "length": 17}]), "links marked in it"),
        (update(reply_to_message={"message_id": 40}), "a reply"),
        (update(**{"from": {"id": 7001, "is_bot": False}}), "a sender without a name"),
        ({"update_id": 900, "edited_message": update()["message"]}, "an edit"),
        (
            {
                "update_id": 901,
                "callback_query": {
                    "id": "q",
                    "from": {"id": 1, "is_bot": False, "first_name": "a"},
                    "chat_instance": "c",
                    "data": "x",
                },
            },
            "a press",
        ),
        ({"update_id": "900", "message": update()["message"]}, "an update id that is a string"),
        ([], "not an object"),
    ],
)
def test_anything_else_is_left_to_the_library(item: Any, why: str) -> None:
    assert plain_text(item) is None, why


ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
    st.dictionaries(st.sampled_from(["id", "type", "is_bot", "message_id"]), st.integers()),
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["message_id", "from", "chat", "date", "text", "entities", "x"]), ODD
        ),
        max_size=3,
    )
)
def test_whatever_a_field_holds_the_reader_never_raises_and_agrees_with_the_library(
    changes: list[tuple[str, Any]],
) -> None:
    item = update()
    for key, value in changes:
        item["message"][key] = value
    plain = plain_text(item)
    if plain is not None:
        assert plain_inbounds(plain) == as_the_library_reads_it(item)
