"""The web chat's conversation view: references in order, read back sealed, bounded, erasable.

A page's cursor holds while the line it names is kept; after a reset of the address
(a quick exit, an erasure, everything expired) the page is told to start over.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from storage_support import T0, message, open_store, raw_query, raw_update, reply, turn
from support import Clock

from storage.channels.webchat import FOREIGN, START, STATEMENT_SECONDS, Cursor
from storage.crypto.keys import KeyRing
from storage.store import Store

ADDRESS = "Q" * 32  # the anonymous id in a browser's cookie
SECRET = "RAHASIA-7781"


async def webchat_turn(
    store: Store,
    tid: str,
    text: str,
    answer: str,
    when: datetime = T0,
    *,
    address: str = ADDRESS,
    quick_exit: bool = False,
) -> tuple[int, list[int]]:
    """A web chat message and its committed reply; (contact id, outbox ids)."""
    item = message(tid, text, channel="webchat", when=when)
    contact, inbox_id = await store.turns.receive("webchat", address, item)
    assert inbox_id is not None
    write = turn(contact.id, inbox_id, outbound=(reply(contact.id, answer, channel="webchat"),))
    ids = await store.turns.commit_turn(dataclasses.replace(write, quick_exit=quick_exit))
    return contact.id, ids


async def answered(store: Store, tid: str, text: str, *, address: str = ADDRESS) -> None:
    """A message and its reply, both shown (two lines)."""
    _, [reply_id] = await webchat_turn(store, tid, text, f"balasan {tid}", address=address)
    assert await store.webchat.delivered(reply_id, address) is not None


async def quick_exit(store: Store, tid: str) -> None:
    """`keluar`: the address's lines go; the neutral reply is the new epoch's first line."""
    _, [reply_id] = await webchat_turn(store, tid, "keluar", "Oke, terima kasih.", quick_exit=True)
    assert await store.webchat.delivered(reply_id, ADDRESS) == 1


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
    assert (await store.webchat.view(ADDRESS, before.cursor)).lines == after.lines[1:]
    assert (await store.webchat.view("R" * 32)).lines == ()
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert SECRET.encode() not in raw and ADDRESS.encode() not in raw


async def test_messages_of_other_channels_are_no_lines(store: Store, db_path: Path) -> None:
    contact, inbox_id = await store.turns.receive("telegram", ADDRESS, message("t1"))
    assert inbox_id is not None
    [reply_id] = await store.turns.commit_turn(
        turn(contact.id, inbox_id, outbound=(reply(contact.id),))
    )
    assert raw_query(db_path, "SELECT count(*) FROM webchat_lines") == [(0,)]
    assert (await store.webchat.view(ADDRESS)).first is None


async def test_a_reply_no_longer_waiting_is_never_shown(store: Store, clock: Clock) -> None:
    _, [reply_id] = await webchat_turn(store, "w1", "halo", "Halo juga.")
    await store.outbox.mark_failed(reply_id, "cancelled_quick_exit", clock())
    assert await store.webchat.delivered(reply_id, ADDRESS) is None
    assert await store.webchat.delivered(999, ADDRESS) is None
    assert [line.who for line in (await store.webchat.view(ADDRESS)).lines] == ["you"]


async def test_the_newest_lines_are_kept_and_old_ones_go(
    store: Store, db_path: Path, clock: Clock
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


# --- cursors and epochs ----------------------------------------------------------------


async def test_a_cursor_gets_only_the_lines_after_it_while_its_line_is_kept(store: Store) -> None:
    await answered(store, "w1", "halo")
    seen = await store.webchat.view(ADDRESS)
    assert (seen.newest, seen.reset) == (2, False)
    await answered(store, "w2", "menu")
    later = await store.webchat.view(ADDRESS, seen.cursor)
    assert [line.text for line in later.lines] == ["menu", "balasan w2"]
    assert (later.first, later.newest, later.reset) == (1, 4, False)
    caught_up = await store.webchat.view(ADDRESS, later.cursor)
    assert (caught_up.lines, caught_up.reset, caught_up.cursor) == ((), False, later.cursor)


async def test_a_cursor_from_before_a_quick_exit_starts_the_page_over_with_every_new_line(
    store: Store,
) -> None:
    await answered(store, "w1", SECRET)
    await answered(store, "w2", "menu")
    asleep = (await store.webchat.view(ADDRESS)).cursor  # line 4
    await quick_exit(store, "w3")
    for n in range(4, 7):  # another tab: the new epoch's numbers pass the sleeping cursor
        await answered(store, f"w{n}", f"pesan {n}")
    now = await store.webchat.view(ADDRESS)
    assert now.newest == 7 > asleep.n
    woken = await store.webchat.view(ADDRESS, asleep)
    assert woken.reset is True
    assert woken.lines == now.lines, "every line of the new epoch, none skipped"
    assert [line.seq for line in woken.lines] == [1, 2, 3, 4, 5, 6, 7]
    assert SECRET not in repr([line.text for line in woken.lines])
    assert (await store.webchat.view(ADDRESS, woken.cursor)).reset is False


async def test_after_a_quick_exit_the_address_has_left_and_reads_no_line_until_they_write(
    store: Store,
) -> None:
    """Derived from the quick exit and the messages since, as for every other channel."""
    await answered(store, "w1", SECRET)
    await answered(store, "o1", "halo", address="R" * 32)
    asleep = (await store.webchat.view(ADDRESS)).cursor
    await quick_exit(store, "w2")
    assert await store.webchat.left(ADDRESS)
    for after in (START, asleep, FOREIGN):
        view = await store.webchat.view(ADDRESS, after)
        assert view.left is True and view.lines == ()
    other = await store.webchat.view("R" * 32)
    assert other.left is False and len(other.lines) == 2, "only the address that left"
    assert not await store.webchat.left("S" * 32), "an address never written from"
    await answered(store, "w3", "aku kembali")  # they write again
    back = await store.webchat.view(ADDRESS)
    assert back.left is False and not await store.webchat.left(ADDRESS)
    assert [line.text for line in back.lines] == ["Oke, terima kasih.", "aku kembali", "balasan w3"]


async def test_a_cursor_at_the_same_number_in_a_new_epoch_is_still_another_epoch(
    store: Store,
) -> None:
    await answered(store, "w1", SECRET)
    asleep = (await store.webchat.view(ADDRESS)).cursor  # line 2
    await quick_exit(store, "w2")
    await answered(store, "w3", "halo")  # the new epoch has a line 2 as well
    woken = await store.webchat.view(ADDRESS, asleep)
    assert woken.reset is True and [line.seq for line in woken.lines] == [1, 2, 3]


async def test_a_page_that_slept_past_what_is_kept_starts_over_with_what_is(store: Store) -> None:
    await answered(store, "w1", "halo")
    asleep = (await store.webchat.view(ADDRESS, keep_lines=3)).cursor  # line 2
    for n in range(2, 5):
        _, [reply_id] = await webchat_turn(store, f"w{n}", f"pesan {n}", f"balasan {n}")
        await store.webchat.delivered(reply_id, ADDRESS, keep_lines=3)
    woken = await store.webchat.view(ADDRESS, asleep, keep_lines=3)
    assert woken.reset is True
    assert [line.text for line in woken.lines] == ["balasan 3", "pesan 4", "balasan 4"]


async def test_a_cursor_after_everything_went_says_so_with_nothing_to_show(
    store: Store, clock: Clock
) -> None:
    await answered(store, "w1", SECRET)
    asleep = (await store.webchat.view(ADDRESS, keep_seconds=60)).cursor
    clock.advance(61)
    gone = await store.webchat.view(ADDRESS, asleep, keep_seconds=60)
    assert (gone.lines, gone.first, gone.reset, gone.cursor) == ((), None, True, START)
    assert (await store.webchat.view(ADDRESS, START, keep_seconds=60)).reset is False


async def test_a_cursor_is_bound_to_its_address(store: Store) -> None:
    other = "R" * 32
    await answered(store, "w1", SECRET)
    await answered(store, "w2", "lagi")
    theirs = (await store.webchat.view(ADDRESS)).cursor
    await answered(store, "r1", "halo", address=other)
    await answered(store, "r2", "halo lagi", address=other)
    own = await store.webchat.view(other)
    borrowed = await store.webchat.view(other, theirs)  # same number, another address
    assert borrowed.reset is True and borrowed.lines == own.lines
    assert SECRET not in repr([line.text for line in borrowed.lines])
    assert (await store.webchat.view("S" * 32, theirs)).lines == ()


@pytest.mark.parametrize(
    "raw",
    ["abc", "-1", "3", "1e9", "9" * 30, "2-", "2-xyz", "2-" + "0" * 16, "2-" + "A" * 16, "\x00"],
)
async def test_a_garbled_or_forged_cursor_reads_only_the_address_own_lines_from_the_start(
    store: Store, raw: str
) -> None:
    await answered(store, "w1", "halo")
    await answered(store, "r1", SECRET, address="R" * 32)
    view = await store.webchat.view(ADDRESS, Cursor.parse(raw))
    assert view.reset is True
    assert [line.text for line in view.lines] == ["halo", "balasan w1"]


def test_a_cursor_reads_back_as_given_and_anything_else_is_foreign() -> None:
    given = Cursor(12, "0123456789abcdef")
    assert str(given) == "12-0123456789abcdef" and Cursor.parse(str(given)) == given
    assert Cursor.parse("") == Cursor.parse("0") == START and str(START) == "0"
    assert Cursor.parse("12") == Cursor.parse("00-0123456789abcdef") == FOREIGN
    # No line, but the erasure statement with that mark on the screen.
    showing = Cursor(0, "0123456789abcdef")
    assert str(showing) == "0-0123456789abcdef" and Cursor.parse(str(showing)) == showing


async def test_the_epoch_survives_a_restart(db_path: Path, keyring: KeyRing, clock: Clock) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await answered(store, "w1", SECRET)
        before_exit = (await store.webchat.view(ADDRESS)).cursor
        await quick_exit(store, "w2")
        await answered(store, "w3", "halo")
        current = (await store.webchat.view(ADDRESS)).cursor
    async with await open_store(db_path, keyring, clock=clock) as store:  # a restart
        await answered(store, "w4", "menu")
        resumed = await store.webchat.view(ADDRESS, current)
        assert resumed.reset is False
        assert [line.text for line in resumed.lines] == ["menu", "balasan w4"]
        stale = await store.webchat.view(ADDRESS, before_exit)
        assert stale.reset is True and [line.seq for line in stale.lines] == [1, 2, 3, 4, 5]


async def test_statements_nobody_came_back_to_read_are_swept_after_their_hour(
    store: Store, db_path: Path, clock: Clock
) -> None:
    """An erasure's statement waits an hour for the page that asked; the retention pass
    sweeps older ones even if that address never writes again."""
    for n, age in enumerate((STATEMENT_SECONDS + 5, 10)):
        at = (clock() - timedelta(seconds=age)).timestamp() * 1_000_000
        raw_update(
            db_path,
            "INSERT INTO webchat_statements (address_bidx, body_enc, outbox_ids, at)"
            " VALUES (?, ?, '', ?)",
            (bytes([n]) * 16, b"sealed", int(at)),
        )
    assert await store.webchat.sweep_statements() == 1
    assert raw_query(db_path, "SELECT count(*) FROM webchat_statements") == [(1,)]
