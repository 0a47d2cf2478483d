"""The web chat's conversation view: references in order, read back sealed, bounded, erasable."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from storage_support import T0, FakeClock, message, raw_query, reply, turn

from storage.store import Store

ADDRESS = "Q" * 32  # the anonymous id in a browser's cookie
SECRET = "RAHASIA-7781"


async def webchat_turn(
    store: Store, tid: str, text: str, answer: str, when: datetime = T0
) -> tuple[int, list[int]]:
    """A web chat message and its committed reply; (contact id, outbox ids)."""
    item = message(tid, text, channel="webchat", when=when)
    contact, inbox_id = await store.receive("webchat", ADDRESS, item)
    assert inbox_id is not None
    ids = await store.commit_turn(
        turn(contact.id, inbox_id, outbound=(reply(contact.id, answer, channel="webchat"),))
    )
    return contact.id, ids


async def test_a_message_is_a_line_when_stored_and_a_reply_when_delivered(
    store: Store, db_path: Path
) -> None:
    _, [reply_id] = await webchat_turn(store, "w1", f"tolong {SECRET}", "Kami di sini.")
    before = await store.webchat.view(ADDRESS)
    assert [(line.who, line.text) for line in before.lines] == [("you", f"tolong {SECRET}")]
    seq = await store.webchat.delivered(reply_id, ADDRESS)
    assert seq is not None and await store.webchat.delivered(reply_id, ADDRESS) == seq
    after = await store.webchat.view(ADDRESS)
    assert [(line.who, line.text) for line in after.lines] == [
        ("you", f"tolong {SECRET}"),
        ("bot", "Kami di sini."),
    ]
    assert (await store.webchat.view(ADDRESS, after=after.lines[0].seq)).lines == after.lines[1:]
    assert (await store.webchat.view("R" * 32)).lines == ()
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert SECRET.encode() not in raw and ADDRESS.encode() not in raw


async def test_messages_of_other_channels_are_no_lines(store: Store, db_path: Path) -> None:
    contact, inbox_id = await store.receive("telegram", ADDRESS, message("t1"))
    assert inbox_id is not None
    [reply_id] = await store.commit_turn(turn(contact.id, inbox_id, outbound=(reply(contact.id),)))
    assert raw_query(db_path, "SELECT count(*) FROM webchat_lines") == [(0,)]
    assert (await store.webchat.view(ADDRESS)).first is None


async def test_a_reply_no_longer_waiting_is_never_shown(store: Store, clock: FakeClock) -> None:
    _, [reply_id] = await webchat_turn(store, "w1", "halo", "Halo juga.")
    await store.outbox.mark_failed(reply_id, "cancelled_quick_exit", clock())
    assert await store.webchat.delivered(reply_id, ADDRESS) is None
    assert await store.webchat.delivered(999, ADDRESS) is None
    assert [line.who for line in (await store.webchat.view(ADDRESS)).lines] == ["you"]


async def test_the_newest_lines_are_kept_and_old_ones_go(
    store: Store, db_path: Path, clock: FakeClock
) -> None:
    for n in range(3):
        _, [reply_id] = await webchat_turn(store, f"w{n}", f"pesan {n}", f"balasan {n}")
        await store.webchat.delivered(reply_id, ADDRESS, keep_lines=4)
    view = await store.webchat.view(ADDRESS, keep_lines=4)
    assert [line.text for line in view.lines] == ["pesan 1", "balasan 1", "pesan 2", "balasan 2"]
    assert view.first == view.lines[0].seq
    assert raw_query(db_path, "SELECT count(*) FROM webchat_lines") == [(4,)]
    clock.advance(3601)
    assert (await store.webchat.view(ADDRESS, keep_seconds=3600)).first is None
    _, [reply_id] = await webchat_turn(store, "w9", "lagi", "ya", clock())
    await store.webchat.delivered(reply_id, ADDRESS, keep_seconds=3600)
    assert raw_query(db_path, "SELECT count(*) FROM webchat_lines") == [(2,)]


async def test_an_erasure_takes_the_lines_with_the_rows_they_point_at(
    store: Store, db_path: Path
) -> None:
    contact_id, [reply_id] = await webchat_turn(store, "w1", SECRET, "Baik.")
    await store.webchat.delivered(reply_id, ADDRESS)
    assert await store.erasure.erase(contact_id, reason="purge", actor="cli", why="asked")
    assert raw_query(db_path, "SELECT count(*) FROM webchat_lines") == [(0,)]
    assert (await store.webchat.view(ADDRESS)).lines == ()
