"""Live keyboards: one per chat, retired by a newer question, a typed answer or a press."""

from __future__ import annotations

from pathlib import Path

from storage_support import T0, message, raw_query

from storage.channels.keyboards import LiveKeyboard
from storage.store import Store


async def chat(store: Store, address: str) -> int:
    contact, _ = await store.turns.receive("telegram", address, message(f"m-{address}"))
    return contact.id


async def test_a_newer_question_replaces_the_live_keyboard_and_names_the_old_one(
    store: Store,
) -> None:
    await chat(store, "5001")
    assert await store.keyboards.show("telegram", "5001", "10", {}, T0) is None
    replaced = await store.keyboards.show("telegram", "5001", "12", {"~ab": "long"}, T0)
    assert replaced == LiveKeyboard("10")
    live = await store.keyboards.live("telegram", "5001")
    assert live == LiveKeyboard("12", (("~ab", "long"),))
    assert live.value_for("~ab") == "long" and live.value_for("~zz") is None


async def test_showing_the_same_message_again_replaces_nothing(store: Store) -> None:
    await chat(store, "5002")
    await store.keyboards.show("telegram", "5002", "10", {}, T0)
    assert await store.keyboards.show("telegram", "5002", "10", {}, T0) is None


async def test_a_press_retires_only_the_keyboard_it_was_pressed_on(store: Store) -> None:
    await chat(store, "5003")
    await store.keyboards.show("telegram", "5003", "20", {}, T0)
    assert await store.keyboards.retire("telegram", "5003", "19") is None, "an older message"
    assert await store.keyboards.retire("telegram", "5003", "20") == LiveKeyboard("20")
    assert await store.keyboards.retire("telegram", "5003", "20") is None, "pressed twice"
    assert await store.keyboards.live("telegram", "5003") is None


async def test_a_typed_answer_retires_whatever_keyboard_is_live(store: Store) -> None:
    await chat(store, "5004")
    await store.keyboards.show("telegram", "5004", "30", {}, T0)
    assert await store.keyboards.retire("telegram", "5004") == LiveKeyboard("30")
    assert await store.keyboards.retire("telegram", "5004") is None


async def test_keyboards_are_per_chat_and_unknown_chats_have_none(store: Store) -> None:
    await chat(store, "5005")
    await chat(store, "5006")
    await store.keyboards.show("telegram", "5005", "1", {}, T0)
    assert await store.keyboards.live("telegram", "5006") is None
    assert await store.keyboards.live("whatsapp", "5005") is None
    assert await store.keyboards.show("telegram", "nobody", "1", {}, T0) is None
    assert await store.keyboards.retire("telegram", "nobody") is None


async def test_the_chat_id_is_not_stored_with_the_keyboard(store: Store, db_path: Path) -> None:
    await chat(store, "777000111")
    await store.keyboards.show("telegram", "777000111", "41", {}, T0)
    rows = raw_query(db_path, "SELECT * FROM live_keyboards")
    assert len(rows) == 1 and "777000111" not in repr(rows)
