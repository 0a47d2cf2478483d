"""WhatsApp's incoming webhook, end to end: the fake Twilio posts to the real web server.

Only what Twilio signed for the public URL is stored; a repeat is a no-op; the
body is bounded; every kind of content gets its answer; button payloads become
choices and are never shown to the family.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator
from twilio_api import FakeTwilio
from whatsapp_support import (
    FAMILY,
    TEMPLATES,
    app_of,
    contact,
    counsellor,
    number_for,
    raw_query,
    running,
    say,
    settle,
    sid,
    text,
    whatsapp_config,
)

from bot.channels.whatsapp.protocol import INCOMING_PATH, MAX_WEBHOOK_BODY
from bot.config import Config
from bot.run import Service

pytestmark = pytest.mark.e2e

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, fake: FakeTwilio) -> Config:
    return whatsapp_config(tmp_path / "data", fake)


def inbox_size(service: Service) -> int:
    rows = raw_query(app_of(service).config.database_path, "SELECT count(*) FROM inbox")
    return int(str(rows[0][0]))


async def test_a_signed_message_is_stored_then_answered_with_empty_twiml_and_a_reply(
    fake: FakeTwilio, config: Config
) -> None:
    async with running(config, fake) as service:
        answer = await fake.send_text(FAMILY, "halo")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/xml")
        assert answer.text == EMPTY_TWIML
        assert inbox_size(service) == 1
        await settle(service)
        assert "selamat datang" in fake.texts_to(FAMILY)[0].lower()
        assert fake.refused == []


async def test_a_message_without_twilios_signature_is_refused_and_nothing_is_stored(
    fake: FakeTwilio, config: Config
) -> None:
    async with running(config, fake) as service:
        for signature, why in [
            (None, "missing"),
            ("bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==", "forged"),
            ("", "empty"),
        ]:
            params = fake.incoming(FAMILY, Body="halo")
            answer = await fake.post_incoming(params, signature=signature)
            assert answer.status_code == 403, why
        await settle(service)
        assert inbox_size(service) == 0
        assert await app_of(service).store.contacts.find("whatsapp", FAMILY) is None
    assert fake.sent == []


async def test_a_signature_over_other_words_is_refused(fake: FakeTwilio, config: Config) -> None:
    """The signature covers every parameter: changing the words after signing breaks it."""
    params = fake.incoming(FAMILY, Body="halo")
    signature = RequestValidator(fake.auth_token).compute_signature(
        f"{config.web.public_url}{INCOMING_PATH}", params
    )
    params["Body"] = "kata-kata lain"
    async with running(config, fake) as service:
        answer = await fake.post_incoming(params, signature=signature)
        assert answer.status_code == 403
        assert inbox_size(service) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("AccountSid", "AC" + "9" * 32),  # another Twilio account sharing the webhook URL
        ("To", "whatsapp:+14155550000"),  # another number of this account
        ("AccountSid", ""),
    ],
)
async def test_a_signed_message_for_another_account_or_number_is_refused(
    fake: FakeTwilio, config: Config, field: str, value: str
) -> None:
    params = fake.incoming(FAMILY, Body="halo")
    params[field] = value
    async with running(config, fake) as service:
        answer = await fake.post_incoming(params)  # signed correctly, for our URL
        assert answer.status_code == 403
        assert inbox_size(service) == 0
    assert fake.sent == []


async def test_behind_a_reverse_proxy_the_configured_public_url_is_what_is_checked(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    """Twilio signs the https address it called; the proxy forwards to 127.0.0.1. Host and
    X-Forwarded-* headers are never trusted: a signature for the inner address fails."""
    public = "https://lk3.example.org"
    config = whatsapp_config(tmp_path / "data", fake, public_url=public)
    async with running(config, fake) as service:
        assert service.web is not None
        inner = f"http://127.0.0.1:{service.web.port}{INCOMING_PATH}"

        signed_for_public = await fake.post_incoming(fake.incoming(FAMILY, Body="halo"))
        assert signed_for_public.status_code == 200

        params = fake.incoming(FAMILY, Body="halo lagi")
        signature = RequestValidator(fake.auth_token).compute_signature(inner, params)
        async with httpx.AsyncClient() as client:
            spoofed = await client.post(
                inner,
                content=urlencode(params).encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                    "X-Forwarded-Host": "127.0.0.1",
                    "X-Forwarded-Proto": "http",
                },
            )
        assert spoofed.status_code == 403
        assert inbox_size(service) == 1


async def test_a_webhook_twilio_posts_again_is_processed_once(
    fake: FakeTwilio, config: Config
) -> None:
    params = fake.incoming(FAMILY, Body="halo")
    async with running(config, fake) as service:
        first = await fake.post_incoming(params)
        await settle(service)
        answered = len(fake.sent)
        again = await fake.post_incoming(dict(params))
        await settle(service)
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.text == EMPTY_TWIML
        assert inbox_size(service) == 1
        assert len(fake.sent) == answered, "a repeat was answered again"


async def test_an_oversized_body_is_refused_with_413_before_anything_is_stored(
    fake: FakeTwilio, config: Config
) -> None:
    async with running(config, fake) as service:
        huge = fake.incoming(FAMILY, Body="a" * (MAX_WEBHOOK_BODY + 1))
        answer = await fake.post_incoming(huge)
        assert answer.status_code == 413
        assert service.web is not None

        async def chunks() -> AsyncIterator[bytes]:
            # No Content-Length (chunked): the bound holds while reading.
            for _ in range(MAX_WEBHOOK_BODY // 1024 + 2):
                yield b"B" * 1024

        async with httpx.AsyncClient() as client:
            streamed = await client.post(
                f"http://127.0.0.1:{service.web.port}{INCOMING_PATH}",
                content=chunks(),
                headers={"X-Twilio-Signature": "x"},
            )
        assert streamed.status_code == 413
        assert inbox_size(service) == 0


async def test_a_signed_post_that_is_no_message_is_acknowledged_and_not_stored(
    fake: FakeTwilio, config: Config
) -> None:
    params = fake.incoming(FAMILY, Body="halo")
    del params["From"]
    async with running(config, fake) as service:
        answer = await fake.post_incoming(params)
        assert (answer.status_code, answer.text) == (200, EMPTY_TWIML)
        assert inbox_size(service) == 0


MEDIA = [
    ("image/jpeg", "unsupported.photo"),
    ("audio/ogg", "unsupported.voice"),
    ("video/mp4", "unsupported.video"),
    ("application/pdf", "unsupported.file"),
    ("image/webp", "unsupported.sticker"),
    ("text/vcard", "unsupported.contact"),
    ("model/gltf-binary", "unsupported.other"),
]


async def test_media_and_locations_get_the_kind_reply_for_their_kind(
    fake: FakeTwilio, config: Config
) -> None:
    """One family per row of the table: what they send, and what the bot answers."""
    location = "+6281399999999"
    async with running(config, fake) as service:
        for n, (content_type, _) in enumerate(MEDIA):
            await fake.send_media(f"+62813000000{n:02d}", content_type)
        await fake.send_location(location)
        await settle(service)
    for n, (content_type, key) in enumerate(MEDIA):
        # A first message: who we are, the kind's own words, and the numbers to call.
        [reply] = fake.texts_to(f"+62813000000{n:02d}")
        assert reply.startswith("Halo, selamat datang di layanan LK3"), content_type
        assert text(key) in reply and "112" in reply and "119" in reply, content_type
    [reply] = fake.texts_to(location)
    assert text("unsupported.location") in reply


async def test_the_words_sent_with_a_photo_are_read_first_and_crisis_checked(
    fake: FakeTwilio, config: Config
) -> None:
    async with running(config, fake) as service:
        await fake.send_media(FAMILY, "image/jpeg", caption="suami saya memukul saya tiap malam")
        await settle(service)
        case = await app_of(service).store.cases.open_for((await contact(service)).id)
        assert case is not None and case.urgency == "darurat"
        texts = fake.texts_to(FAMILY)
        assert texts[-1] == text("unsupported.photo")
        assert any("112" in t for t in texts[:-1]), "the safety message with the hotlines"
        assert inbox_size(service) == 2


async def test_choices_go_as_the_offices_quick_reply_template_and_a_pressed_button_is_a_choice(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake) as service:
        await fake.send_text(FAMILY, "halo")
        await settle(service)
        consent = fake.last_to(FAMILY)
        assert consent.content_sid == sid("4") and consent.body == ""
        assert consent.variables == {
            "1": "Apakah Anda setuju data Anda kami simpan dan gunakan seperti di atas?",
            "2": "Setuju",
            "3": "agree",
            "4": "Tidak setuju",
            "5": "decline",
            "22": "Pilih",
        }
        await fake.press(FAMILY, "agree", "Setuju")
        await settle(service)
        menu = fake.last_to(FAMILY)
        # Six choices and no template for six: a numbered list in the body.
        assert menu.content_sid == "" and "\n3. Buat janji konsultasi" in menu.body
        state = await app_of(service).store.consents.latest((await contact(service)).id)
        assert state is not None and state.given
    for shown in fake.texts_to(FAMILY):
        assert "agree" not in shown and "decline" not in shown


async def test_a_row_picked_from_a_list_picker_is_a_choice(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake) as service:
        await counsellor(service)
        await fake.send_text(FAMILY, "halo")
        await fake.press(FAMILY, "agree", "Setuju")
        await settle(service)
        await say(service, fake, number_for(fake.texts_to(FAMILY)[-1], "Buat janji"))
        modes = fake.last_to(FAMILY)
        assert modes.content_sid == sid("6"), "four ways of meeting: the four-row list picker"
        labels = [modes.variables[str(n)] for n in (2, 4, 6, 8)]
        assert labels[0] == "Datang ke kantor LK3"
        await fake.choose(FAMILY, modes.variables["3"], labels[0])
        await settle(service)
        assert fake.texts_to(FAMILY)[-1].startswith("Hari apa yang cocok untuk Anda?")


async def test_a_payload_the_question_never_offered_gets_a_kind_re_ask(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake) as service:
        await fake.send_text(FAMILY, "halo")
        await settle(service)
        asked = len(fake.sent)
        await fake.press(FAMILY, "kantor", "Kantor")
        await settle(service)
        again = fake.sent[asked:]
        assert again and again[-1].content_sid == sid("4"), "the consent question, asked again"
        assert await app_of(service).store.consents.latest((await contact(service)).id) is None


async def test_a_message_with_a_nul_is_kept_and_answered(fake: FakeTwilio, config: Config) -> None:
    """PostgreSQL's text cannot hold U+0000 (bot.storable): the words are kept with U+FFFD."""
    async with running(config, fake) as service:
        answer = await fake.send_text(FAMILY, "halo\x00")
        assert answer.status_code == 200 and inbox_size(service) == 1
        await settle(service)
        assert "selamat datang" in fake.texts_to(FAMILY)[0].lower()
        row = await app_of(service).store.inbox.get(1)
        assert row is not None and row.text == "halo\ufffd"
