"""Staff: roles, one-time Telegram link codes, and finding a counsellor by their chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from storage_support import T0, at, message

from storage.errors import ConstraintError, InvalidRecordError
from storage.store import Store


async def linked_chat(store: Store, address: str = "9001") -> int:
    contact, _ = await store.turns.receive("telegram", address, message(f"link-{address}"))
    return contact.id


async def test_a_counsellor_is_added_with_roles_and_found_by_username(store: Store) -> None:
    member = await store.staff.add("Sari.W", "Sari Wattimena", ["counsellor", "supervisor"], T0)
    assert member.username == "sari.w"
    assert member.roles == {"counsellor", "supervisor"}
    assert await store.staff.by_username("SARI.W") == member
    assert [m.id for m in await store.staff.list(role="supervisor")] == [member.id]
    assert await store.staff.list(role="admin") == []


@pytest.mark.parametrize(
    ("username", "roles", "problem"),
    [
        ("x", ["counsellor"], "2-32 characters"),
        ("nama dengan spasi", ["counsellor"], "2-32 characters"),
        ("budi", [], "at least one role"),
        ("budi", ["boss"], "unknown staff role 'boss'"),
    ],
)
async def test_bad_staff_details_are_refused_by_name(
    store: Store, username: str, roles: list[str], problem: str
) -> None:
    with pytest.raises(InvalidRecordError, match=problem):
        await store.staff.add(username, "Budi", roles, T0)


async def test_a_username_is_taken_once(store: Store) -> None:
    await store.staff.add("budi", "Budi", ["counsellor"], T0)
    with pytest.raises(ConstraintError, match="'budi' already exists"):
        await store.staff.add("Budi", "Budi Lain", ["admin"], T0)


async def test_a_link_code_links_the_chat_once(store: Store) -> None:
    member = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    code = await store.staff.issue_link_code(member.id, T0)
    chat = await linked_chat(store)
    linked = await store.staff.redeem_link_code(code.lower(), chat, at(60))
    assert linked is not None and linked.contact_id == chat
    assert await store.staff.by_contact(chat) == linked
    # Spent: the same code cannot link another chat.
    other = await linked_chat(store, "9002")
    assert await store.staff.redeem_link_code(code, other, at(61)) is None
    assert await store.staff.by_contact(other) is None


async def test_an_expired_or_wrong_code_links_nothing(store: Store) -> None:
    member = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    code = await store.staff.issue_link_code(member.id, T0, ttl=timedelta(minutes=5))
    chat = await linked_chat(store)
    assert await store.staff.redeem_link_code("WRONGCOD", chat, at(1)) is None
    assert await store.staff.redeem_link_code("", chat, at(1)) is None
    assert await store.staff.redeem_link_code(code, chat, at(301)) is None
    assert await store.staff.by_contact(chat) is None


async def test_a_new_code_replaces_the_old_one(store: Store) -> None:
    member = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    old = await store.staff.issue_link_code(member.id, T0)
    new = await store.staff.issue_link_code(member.id, at(1))
    chat = await linked_chat(store)
    assert await store.staff.redeem_link_code(old, chat, at(2)) is None
    assert await store.staff.redeem_link_code(new, chat, at(3)) is not None


async def test_a_deactivated_counsellor_is_unlinked_and_not_found(store: Store) -> None:
    member = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    chat = await linked_chat(store)
    code = await store.staff.issue_link_code(member.id, T0)
    await store.staff.redeem_link_code(code, chat, at(1))
    await store.staff.set_active(member.id, False, at(2))
    assert await store.staff.by_contact(chat) is None
    again = await store.staff.get(member.id)
    assert again is not None and not again.active and again.contact_id is None


async def test_link_codes_are_not_stored_in_plain_text(store: Store) -> None:
    member = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    code = await store.staff.issue_link_code(member.id, T0)
    await store.close()
    for path in store.path.parent.iterdir():
        assert code.encode() not in path.read_bytes()
