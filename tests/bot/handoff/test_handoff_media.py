"""A family's photo or voice note during a hand-off, end to end: fetched through the real
SDKs from the fake Bot API and the fake Twilio, kept sealed, and uploaded to the
counsellor's Telegram as itself; too large, and the family is asked kindly for words.

Both channels run at once: the counsellor on Telegram, families on either.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import Clock, free_port
from support.media import JPEG_HEAD, ogg_opus, png
from telegram_api import FakeTelegram
from telegram_support import FAST, app_of, settle, telegram_config, text
from twilio_api import FakeTwilio
from whatsapp_support import FAST as WA_FAST

from bot.config import Config, Web, WhatsApp
from bot.handoff.alerts import TAKE_PREFIX
from bot.handoff.media import FETCH_BUDGET_SECONDS, MAX_MEDIA_BYTES
from bot.run import Service
from storage.handoff.records import LiveCase
from storage.media.records import MediaItem

pytestmark = pytest.mark.e2e

FAMILY = 7001
SARI = 9101
WA_FAMILY = "+6281234567001"
URGENT_WORDS = "suami saya memukuli saya sekarang"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, fake: FakeTelegram, twilio: FakeTwilio) -> Config:
    port = free_port()
    return dataclasses.replace(
        telegram_config(tmp_path / "data", fake),
        whatsapp=WhatsApp(
            enabled=True,
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            from_number=twilio.sender,
            api_base_url=twilio.url,
        ),
        web=Web(host="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}"),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(
    config: Config, fake: FakeTelegram, twilio: FakeTwilio, clock: Clock
) -> AsyncIterator[Service]:
    options = {"telegram": FAST, "whatsapp": WA_FAST}
    service = Service(config, options=options, env={}, clock=clock)
    await service.start()
    assert service.web is not None
    twilio.connect(config.web.public_url, deliver_to=f"http://127.0.0.1:{service.web.port}")
    try:
        await counsellor(service, fake)
        yield service
    finally:
        await service.stop()


async def counsellor(service: Service, fake: FakeTelegram) -> None:
    """Sari, a counsellor, links her Telegram chat."""
    app = app_of(service)
    assert app.handoff is not None
    member = await app.store.staff.add("sari", "Sari", ["counsellor"], app.handoff.now())
    code = await app.store.staff.issue_link_code(member.id, app.handoff.now())
    await settle(service, fake, fake.send_text(SARI, f"/link {code}"))


async def held_case(service: Service, fake: FakeTelegram, contact_id: int) -> LiveCase:
    """The family's urgent case, alerted and taken by Sari from her Telegram."""
    app = app_of(service)
    assert app.escalation is not None
    await app.escalation.run_once()
    await app.wait_idle()
    case = await app.store.handoff.live_for(contact_id)
    assert case is not None
    for message in reversed(fake.messages(SARI)):
        if (f"{TAKE_PREFIX}{case.id}") in [data for _, data in message.buttons()]:
            press = fake.press(SARI, f"{TAKE_PREFIX}{case.id}", message_id=message.message_id)
            await settle(service, fake, press)
            break
    taken = await app.store.handoff.live_for(contact_id)
    assert taken is not None and taken.status == "taken"
    return taken


async def telegram_family_in_a_hand_off(service: Service, fake: FakeTelegram) -> LiveCase:
    await settle(service, fake, fake.send_text(FAMILY, URGENT_WORDS))
    found = await app_of(service).store.contacts.find("telegram", str(FAMILY))
    assert found is not None
    return await held_case(service, fake, found.id)


async def media_of(service: Service, contact_id: int) -> list[MediaItem]:
    return list((await app_of(service).store.media.for_contact(contact_id)).values())


def no_family_identity_in(fake: FakeTelegram, chat: int, *hidden: str) -> None:
    for call in fake.calls:
        if str(call.params.get("chat_id", "")) == str(chat):
            words = str(call.params.get("text", "")) + str(call.params.get("caption", ""))
            assert not any(h in words for h in hidden), "nothing identifying reaches the counsellor"


# --- Telegram ------------------------------------------------------------------------


async def test_a_voice_note_in_a_held_case_reaches_the_counsellor_as_a_voice_note(
    service: Service, fake: FakeTelegram
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    audio = ogg_opus(1.0)
    await settle(service, fake, fake.send_file(FAMILY, "voice", audio))
    await app_of(service).wait_idle()
    (upload,) = fake.uploads_to(SARI)
    assert upload.method == "sendVoice" and upload.file.data == audio
    assert upload.caption == text("handoff.media_in", code=case.code, kind="pesan suara")
    no_family_identity_in(fake, SARI, str(FAMILY), "Ibu")
    (item,) = await media_of(service, case.contact_id)
    assert (item.kind, item.status, item.mime, item.size) == (
        "voice",
        "stored",
        "audio/ogg",
        len(audio),
    )
    content = await app_of(service).store.media.content(item.id)
    assert content is not None and content.data == audio
    assert fake.copies == [], "the kept file is uploaded, not copied"


async def test_a_photo_from_telegram_is_kept_and_sent_as_a_photo(
    service: Service, fake: FakeTelegram
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    photo = JPEG_HEAD + b"\x00" * 300
    await settle(service, fake, fake.send_file(FAMILY, "photo", photo, caption="lihat ini"))
    await app_of(service).wait_idle()
    (upload,) = fake.uploads_to(SARI)
    assert upload.method == "sendPhoto" and upload.file.data == photo
    assert text("handoff.relayed_in", code=case.code, text="lihat ini") in fake.texts(SARI)
    (item,) = await media_of(service, case.contact_id)
    assert (item.kind, item.status, item.mime) == ("photo", "stored", "image/jpeg")


async def test_a_voice_note_too_large_gets_a_kind_reply_and_nothing_is_kept(
    service: Service, fake: FakeTelegram
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    before = len(fake.calls_to("getFile"))
    big = fake.send_file(FAMILY, "voice", b"OggS" + b"\x00" * 64, declared_size=MAX_MEDIA_BYTES + 1)
    await settle(service, fake, big)
    await app_of(service).wait_idle()
    assert fake.texts(FAMILY)[-1] == text("handoff.media_too_large")
    assert fake.texts(SARI)[-1] == text("handoff.media_refused", code=case.code, kind="pesan suara")
    assert len(fake.calls_to("getFile")) == before and fake.downloads == []
    (item,) = await media_of(service, case.contact_id)
    assert item.status == "too_large" and item.size == 0
    assert fake.uploads_to(SARI) == []


async def test_a_file_larger_than_it_said_is_refused_by_getfile_before_any_download(
    service: Service, fake: FakeTelegram
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    big = b"OggS" + b"\x00" * MAX_MEDIA_BYTES
    await settle(service, fake, fake.send_file(FAMILY, "voice", big, declared_size=None))
    await app_of(service).wait_idle()
    assert fake.calls_to("getFile") and fake.downloads == []
    assert fake.texts(FAMILY)[-1] == text("handoff.media_too_large")
    assert [i.status for i in await media_of(service, case.contact_id)] == ["too_large"]


async def test_a_download_longer_than_getfile_said_is_abandoned_mid_stream(
    service: Service, fake: FakeTelegram
) -> None:
    """The bytes are counted as they arrive: a server sending more than the limit is cut
    off there, not read whole into memory first."""
    case = await telegram_family_in_a_hand_off(service, fake)
    fake.endless_downloads = True
    try:
        await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
        await app_of(service).wait_idle()
    finally:
        fake.endless_downloads = False
    assert [i.status for i in await media_of(service, case.contact_id)] == ["too_large"]
    assert fake.served_bytes < 4 * MAX_MEDIA_BYTES, "64 MiB were on offer"


async def test_a_file_that_is_not_what_it_says_is_not_kept(
    service: Service, fake: FakeTelegram
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    await settle(service, fake, fake.send_file(FAMILY, "voice", b"<html><script>x</script>"))
    await app_of(service).wait_idle()
    assert [i.status for i in await media_of(service, case.contact_id)] == ["refused"]
    assert fake.texts(FAMILY)[-1] == text("handoff.media_too_large")
    assert fake.uploads_to(SARI) == []


async def test_a_fetch_that_keeps_failing_loses_nothing_the_voice_note_is_copied_instead(
    service: Service, fake: FakeTelegram
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    fake.fail("getFile", "server_error", times=3)
    await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
    await app_of(service).wait_idle()
    assert len(fake.calls_to("getFile")) == 3, "tried again before giving up"
    assert fake.copies and fake.copies[-1][2] == SARI, "Telegram to Telegram: copied instead"
    assert fake.texts(SARI)[-1] == text("handoff.media_in", code=case.code, kind="pesan suara")
    assert [i.status for i in await media_of(service, case.contact_id)] == ["failed"]


async def test_a_stalled_download_never_holds_the_familys_next_message_for_long(
    service: Service, fake: FakeTelegram
) -> None:
    """The fetch runs in the family's turn, so its next message waits behind it: all tries
    together stop at the budget (10 s; shortened here), the file counts as not fetched
    (copied instead), and the urgent words after it reach the counsellor."""
    case = await telegram_family_in_a_hand_off(service, fake)
    app = app_of(service)
    assert app.media is not None and app.media.budget == FETCH_BUDGET_SECONDS == 10.0
    app.media.budget = 0.5
    fake.stall_downloads = True
    try:
        await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
        await settle(service, fake, fake.send_text(FAMILY, "tolong dia datang lagi"))
        await app.wait_idle()
    finally:
        fake.stall_downloads = False
    assert [i.status for i in await media_of(service, case.contact_id)] == ["failed"]
    assert fake.copies and fake.copies[-1][2] == SARI, "copied instead"
    assert any("tolong dia datang lagi" in t for t in fake.texts(SARI))


async def test_a_fetch_that_fails_once_is_tried_again_and_kept(
    service: Service, fake: FakeTelegram
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    fake.fail("getFile", "bad_gateway")
    await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
    await app_of(service).wait_idle()
    assert [i.status for i in await media_of(service, case.contact_id)] == ["stored"]
    assert [u.method for u in fake.uploads_to(SARI)] == ["sendVoice"]


async def test_outside_a_hand_off_nothing_is_fetched_or_kept(
    service: Service, fake: FakeTelegram
) -> None:
    await settle(service, fake, fake.send_text(FAMILY, "halo"))
    await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
    await app_of(service).wait_idle()
    found = await app_of(service).store.contacts.find("telegram", str(FAMILY))
    assert found is not None
    assert fake.calls_to("getFile") == [] and await media_of(service, found.id) == []
    assert fake.texts(FAMILY), "the usual kind reply"


async def test_erasure_takes_the_kept_voice_note_with_the_family(
    service: Service, fake: FakeTelegram
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
    await app_of(service).wait_idle()
    (item,) = await media_of(service, case.contact_id)
    store = app_of(service).store
    assert await store.erasure.erase(case.contact_id, reason="purge", actor="cli", why="test")
    assert await store.media.content(item.id) is None
    assert await media_of(service, case.contact_id) == []


async def test_erasure_deletes_the_relayed_voice_note_from_the_counsellors_chat(
    service: Service, fake: FakeTelegram
) -> None:
    """The file the counsellor received goes from their chat too (Telegram allows it for
    48 hours); the note of where it went is gone with it."""
    case = await telegram_family_in_a_hand_off(service, fake)
    await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
    await app_of(service).wait_idle()
    (upload,) = fake.uploads_to(SARI)
    store = app_of(service).store
    assert await store.relays.count() == 1
    assert await store.erasure.erase(case.contact_id, reason="request", actor="cli", why="test")
    done = await app_of(service).privacy.run_once()
    assert done.relays_deleted == 1
    assert upload.message_id in fake.deleted.get(SARI, set())
    assert await store.relays.count() == 0


async def test_a_copied_voice_note_is_deleted_too(service: Service, fake: FakeTelegram) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    fake.fail("getFile", "server_error", times=3)
    await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
    await app_of(service).wait_idle()
    assert fake.copies and fake.copies[-1][2] == SARI
    store = app_of(service).store
    assert await store.relays.count() == 1
    assert await store.erasure.erase(case.contact_id, reason="request", actor="cli", why="test")
    assert (await app_of(service).privacy.run_once()).relays_deleted == 1
    assert fake.deleted.get(SARI)


async def test_a_relay_older_than_telegram_allows_is_left_and_forgotten(
    service: Service, fake: FakeTelegram, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    case = await telegram_family_in_a_hand_off(service, fake)
    await settle(service, fake, fake.send_file(FAMILY, "voice", ogg_opus(0.4)))
    await app_of(service).wait_idle()
    caplog.set_level(logging.INFO, "bot.privacy.worker")
    clock.advance(49 * 3600)
    store = app_of(service).store
    assert await store.erasure.erase(case.contact_id, reason="purge", actor="cli", why="test")
    before = len(fake.calls_to("deleteMessages"))
    assert (await app_of(service).privacy.run_once()).relays_deleted == 0
    assert len(fake.calls_to("deleteMessages")) == before, "Telegram would refuse it"
    assert await store.relays.count() == 0
    assert "too_old" in caplog.text


# --- WhatsApp --------------------------------------------------------------------------


async def whatsapp_family_in_a_hand_off(
    service: Service, fake: FakeTelegram, twilio: FakeTwilio
) -> LiveCase:
    answer = await twilio.send_text(WA_FAMILY, URGENT_WORDS)
    assert answer.status_code == 200
    await app_of(service).wait_idle()
    found = await app_of(service).store.contacts.find("whatsapp", WA_FAMILY)
    assert found is not None
    return await held_case(service, fake, found.id)


async def test_a_whatsapp_photo_reaches_the_counsellor_s_telegram_as_a_photo(
    service: Service, fake: FakeTelegram, twilio: FakeTwilio
) -> None:
    case = await whatsapp_family_in_a_hand_off(service, fake, twilio)
    photo = png(16, 16)
    answer = await twilio.send_media(WA_FAMILY, "image/png", data=photo)
    assert answer.status_code == 200
    await app_of(service).wait_idle()
    assert len(twilio.media_fetches) == 1, "fetched with the account's credentials, once"
    (upload,) = fake.uploads_to(SARI)
    assert upload.method == "sendPhoto" and upload.file.data == photo
    assert upload.caption == text("handoff.media_in", code=case.code, kind="foto")
    no_family_identity_in(fake, SARI, WA_FAMILY, WA_FAMILY.removeprefix("+"), "Ibu")
    (item,) = await media_of(service, case.contact_id)
    assert (item.kind, item.status, item.mime) == ("photo", "stored", "image/png")


async def test_a_whatsapp_voice_note_larger_than_the_limit_is_abandoned_mid_download(
    service: Service, fake: FakeTelegram, twilio: FakeTwilio
) -> None:
    case = await whatsapp_family_in_a_hand_off(service, fake, twilio)
    big = b"OggS" + b"\x00" * MAX_MEDIA_BYTES
    await twilio.send_media(WA_FAMILY, "audio/ogg; codecs=opus", data=big)
    await app_of(service).wait_idle()
    assert twilio.texts_to(WA_FAMILY)[-1] == text("handoff.media_too_large")
    assert [i.status for i in await media_of(service, case.contact_id)] == ["too_large"]
    assert fake.uploads_to(SARI) == []


async def test_a_whatsapp_media_url_that_fails_tells_the_counsellor_it_could_not_be_fetched(
    service: Service, fake: FakeTelegram, twilio: FakeTwilio
) -> None:
    case = await whatsapp_family_in_a_hand_off(service, fake, twilio)
    await twilio.send_media(WA_FAMILY, "audio/ogg")  # its URL answers 404
    await app_of(service).wait_idle()
    assert fake.texts(SARI)[-1] == text("handoff.media_failed", code=case.code, kind="pesan suara")
    assert [i.status for i in await media_of(service, case.contact_id)] == ["failed"]


async def test_a_whatsapp_media_redirect_to_plain_http_elsewhere_is_not_followed(
    service: Service, fake: FakeTelegram, twilio: FakeTwilio
) -> None:
    """The file would cross the network in the clear: only https (or the configured API's
    own origin, a stand-in in tests) is followed."""
    case = await whatsapp_family_in_a_hand_off(service, fake, twilio)
    twilio.cdn_base = twilio.url.replace("127.0.0.1", "localhost")  # another origin, http
    await twilio.send_media(WA_FAMILY, "image/png", data=png(8, 8))
    await app_of(service).wait_idle()
    assert len(twilio.media_fetches) == 1 and twilio.cdn_fetches == []
    assert [i.status for i in await media_of(service, case.contact_id)] == ["failed"]


async def test_a_whatsapp_media_url_that_fails_once_is_fetched_again_and_kept(
    service: Service, fake: FakeTelegram, twilio: FakeTwilio
) -> None:
    case = await whatsapp_family_in_a_hand_off(service, fake, twilio)
    twilio.fail_media()
    audio = ogg_opus(0.6)
    await twilio.send_media(WA_FAMILY, "audio/ogg", data=audio)
    await app_of(service).wait_idle()
    (upload,) = fake.uploads_to(SARI)
    assert upload.method == "sendVoice" and upload.file.data == audio
    assert [i.status for i in await media_of(service, case.contact_id)] == ["stored"]
