"""A family's photo or voice note on the case page: shown inline to whoever may read the
case, from a route that audits the read, names an allow-listed type, is never sniffed
or cached, and gives nothing to anyone else."""

from __future__ import annotations

from contextlib import aclosing

import pytest
from case_support import family_case
from console_support import client, signed_in
from media_support import family_media
from support import Clock
from support.media import ogg_opus, png

from bot.console.core import Console
from bot.console.office import Office

AUDIO = ogg_opus(1.0)


def media_path(code: str, media_id: int) -> str:
    return f"/console/cases/{code}/media/{media_id}"


async def test_the_case_page_plays_the_voice_note_and_shows_the_photo(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    assert (await office.handoff.take(me, case.id)).done
    voice = await family_media(console.store, clock, case, "voice", "audio/ogg", AUDIO)
    photo = await family_media(console.store, clock, case, "photo", "image/png", png())
    async with aclosing(http):
        page = await http.get(f"/console/cases/{case.code}")
        src = media_path(case.code, voice.id)
        audio = f'<audio class="media" controls preload="metadata" src="{src}"'
        assert audio in page.text
        assert f'<img class="media" src="{media_path(case.code, photo.id)}"' in page.text
        assert "media-src 'self'" in page.headers["content-security-policy"]
        played = await http.get(media_path(case.code, voice.id))
        shown = await http.get(media_path(case.code, photo.id))
    assert played.status_code == 200 and played.content == AUDIO
    assert played.headers["content-type"] == "audio/ogg"
    assert played.headers["content-disposition"] == f'inline; filename="{case.code}-{voice.id}.ogg"'
    assert played.headers["x-content-type-options"] == "nosniff"
    assert played.headers["cache-control"] == "no-store"
    assert shown.content == png() and shown.headers["content-type"] == "image/png"
    views = [r for r in await console.store.audit.rows() if r.action == "media_view"]
    assert [r.subject for r in views] == [
        f"case:{case.code},contact:{case.contact_id},media:{voice.id}",
        f"case:{case.code},contact:{case.contact_id},media:{photo.id}",
    ]
    assert all(r.actor == f"staff:{me}" for r in views)


async def test_a_player_asking_for_a_later_range_gets_those_bytes_without_a_new_audit_row(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    assert (await office.handoff.take(me, case.id)).done
    voice = await family_media(console.store, clock, case, "voice", "audio/ogg", AUDIO)
    async with aclosing(http):
        first = await http.get(media_path(case.code, voice.id), headers={"Range": "bytes=0-"})
        later = await http.get(media_path(case.code, voice.id), headers={"Range": "bytes=100-199"})
        tail = await http.get(media_path(case.code, voice.id), headers={"Range": "bytes=-10"})
        beyond = await http.get(
            media_path(case.code, voice.id), headers={"Range": f"bytes={len(AUDIO)}-"}
        )
    assert first.status_code == 206 and first.content == AUDIO
    assert later.status_code == 206 and later.content == AUDIO[100:200]
    assert later.headers["content-range"] == f"bytes 100-199/{len(AUDIO)}"
    assert tail.content == AUDIO[-10:]
    assert beyond.status_code == 416
    views = [r for r in await console.store.audit.rows() if r.action == "media_view"]
    assert len(views) == 1


async def test_a_first_read_of_any_range_is_audited_once_a_session(
    console: Console, office: Office, clock: Clock
) -> None:
    """A script asking for bytes 1- (never byte 0) still leaves its audit row."""
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    assert (await office.handoff.take(me, case.id)).done
    voice = await family_media(console.store, clock, case, "voice", "audio/ogg", AUDIO)
    async with aclosing(http):
        part = await http.get(media_path(case.code, voice.id), headers={"Range": "bytes=1-"})
        again = await http.get(media_path(case.code, voice.id), headers={"Range": "bytes=1-"})
    assert part.status_code == 206 and part.content == AUDIO[1:] and again.status_code == 206
    views = [r for r in await console.store.audit.rows() if r.action == "media_view"]
    assert len(views) == 1
    _, other = await signed_in(console, clock, "supri", ("supervisor",))
    async with aclosing(other):
        await other.get(media_path(case.code, voice.id), headers={"Range": "bytes=5-9"})
    views = [r for r in await console.store.audit.rows() if r.action == "media_view"]
    assert len(views) == 2, "another session's first read is audited too"


# (viewer's roles, does the viewer hold the case?) -> status of the media route
READERS = [
    (("counsellor",), True, 200),
    (("counsellor",), False, 403),  # held by another counsellor
    (("supervisor",), False, 200),
    (("admin",), False, 403),
]


@pytest.mark.parametrize(("roles", "holds", "status"), READERS)
async def test_the_file_is_served_to_those_who_may_read_the_case_only(
    console: Console,
    office: Office,
    clock: Clock,
    roles: tuple[str, ...],
    holds: bool,
    status: int,
) -> None:
    budi, _ = await signed_in(console, clock, "budi", ("counsellor",))
    me, http = await signed_in(console, clock, "me", roles)
    case = await family_case(console.store, clock)
    assert (await office.handoff.take(me if holds else budi, case.id)).done
    voice = await family_media(console.store, clock, case, "voice", "audio/ogg", AUDIO)
    async with aclosing(http):
        response = await http.get(media_path(case.code, voice.id))
    assert response.status_code == status
    views = [r for r in await console.store.audit.rows() if r.action == "media_view"]
    if status == 200:
        assert response.content == AUDIO and len(views) == 1
    else:
        assert AUDIO not in response.content and views == []


async def test_nobody_signed_in_is_sent_to_the_login_page_without_a_byte(
    console: Console, office: Office, clock: Clock
) -> None:
    me, _ = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    assert (await office.handoff.take(me, case.id)).done
    voice = await family_media(console.store, clock, case, "voice", "audio/ogg", AUDIO)
    async with aclosing(client(console)) as stranger:
        response = await stranger.get(media_path(case.code, voice.id))
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    assert response.content == b""


async def test_another_family_s_file_is_not_found_through_one_s_own_case(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    budi, _ = await signed_in(console, clock, "budi", ("counsellor",))
    mine = await family_case(console.store, clock, address="7001")
    theirs = await family_case(console.store, clock, address="7002")
    assert (await office.handoff.take(me, mine.id)).done
    assert (await office.handoff.take(budi, theirs.id)).done
    other = await family_media(
        console.store, clock, theirs, "voice", "audio/ogg", AUDIO, address="7002"
    )
    async with aclosing(http):
        response = await http.get(media_path(mine.code, other.id))
        missing = await http.get(media_path(mine.code, other.id + 99))
    assert response.status_code == 404 and AUDIO not in response.content
    assert missing.status_code == 404


async def test_a_file_not_kept_is_named_on_the_page_and_never_served(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    assert (await office.handoff.take(me, case.id)).done
    big = await family_media(
        console.store, clock, case, "voice", "audio/ogg", None, status="too_large"
    )
    failed = await family_media(
        console.store, clock, case, "photo", "image/png", None, status="failed"
    )
    async with aclosing(http):
        page = await http.get(f"/console/cases/{case.code}")
        response = await http.get(media_path(case.code, big.id))
    assert "terlalu besar untuk diteruskan" in page.text
    assert "tidak bisa diambil" in page.text and failed.status == "failed"
    assert "<audio" not in page.text and response.status_code == 404


async def test_once_the_family_is_erased_their_file_is_gone(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sv", ("supervisor",))
    case = await family_case(console.store, clock)
    voice = await family_media(console.store, clock, case, "voice", "audio/ogg", AUDIO)
    assert await console.store.erasure.erase(
        case.contact_id, reason="purge", actor="cli", why="test"
    )
    async with aclosing(http):
        response = await http.get(media_path(case.code, voice.id))
    assert response.status_code == 404


async def test_the_live_case_page_learns_when_a_file_is_kept_after_its_message_came(
    console: Console, office: Office, clock: Clock
) -> None:
    case = await family_case(console.store, clock)
    store = console.store
    before = await store.console_cases.transcript_mark(case.contact_id)
    await family_media(store, clock, case, "voice", "audio/ogg", AUDIO)
    after = await store.console_cases.transcript_mark(case.contact_id)
    assert after[-1] == before[-1] + 1, "a kept file changes the mark the live page polls"
