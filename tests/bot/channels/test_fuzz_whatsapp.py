"""Bad WhatsApp posts: forged ones are refused 403 and stored nowhere; signed odd ones never 5xx.

Through the real twilio validator and the real web server, the fake Twilio posting.
A form with fields removed, retyped or added, signed as Twilio signs, is stored
and answered, or ignored with empty TwiML: never a 500 (Twilio would give up on
the webhook) and never a message left unprocessed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.rawdb import raw_query
from twilio.request_validator import RequestValidator
from twilio_api import FakeTwilio
from whatsapp_support import FAMILY, app_of, running, settle, whatsapp_config

from bot.run import Service

pytestmark = pytest.mark.e2e

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
ODD = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "abc",
            "99999999999999999999",
            "1e9",
            "whatsapp:",
            "whatsapp:+",
            "image/jpeg",
            "image/webp",
            "text/vcard",
            "\x00",
            "<script>",
            "{{1}}",
        ]
    ),
)
FIELDS = st.sampled_from(
    [
        "MessageSid",
        "SmsMessageSid",
        "From",
        "Body",
        "NumMedia",
        "MediaContentType0",
        "ButtonPayload",
        "ListId",
        "Latitude",
        "Longitude",
        "To",
        "AccountSid",
        "WaId",
    ]
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
async def service(tmp_path: Path, fake: FakeTwilio) -> AsyncIterator[Service]:
    async with running(whatsapp_config(tmp_path / "data", fake), fake) as running_service:
        yield running_service


def inbox_size(service: Service) -> int:
    rows = raw_query(app_of(service).config.database_path, "SELECT count(*) FROM inbox")
    return int(str(rows[0][0]))


@st.composite
def odd_forms(draw: st.DrawFn, fake: FakeTwilio) -> dict[str, str]:
    form = fake.incoming(FAMILY, Body="halo")
    for _ in range(draw(st.integers(1, 4))):
        field = draw(FIELDS)
        if draw(st.booleans()):
            form.pop(field, None)
        else:
            form[field] = draw(ODD)
    form.update(draw(st.dictionaries(TEXT, TEXT, max_size=3)))
    return form


@SETTINGS
@example(signature=None, resign=False)
@example(signature="", resign=False)
@example(signature="sign-the-other-form", resign=True)
@given(
    signature=st.one_of(
        st.none(), st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
    ),
    resign=st.booleans(),
)
async def test_a_forged_or_missing_signature_is_refused_403_and_nothing_is_stored(
    fake: FakeTwilio, service: Service, signature: str | None, resign: bool
) -> None:
    form = fake.incoming(FAMILY, Body="halo")
    if resign:
        # A real signature, for a form other than the one posted.
        other = {**form, "Body": "bukan ini"}
        signature = RequestValidator(fake.auth_token).compute_signature(
            f"{fake.public_url}/twilio/whatsapp", other
        )
    before = inbox_size(service)
    response = await fake.post_incoming(form, signature=signature)
    assert response.status_code == 403
    assert inbox_size(service) == before, "a forged message was stored"


@SETTINGS
@given(body=st.binary(max_size=200), signature=st.one_of(st.none(), st.just("x" * 28)))
async def test_random_bytes_without_a_valid_signature_are_refused_403(
    fake: FakeTwilio, service: Service, body: bytes, signature: str | None
) -> None:
    before = inbox_size(service)
    response = await fake.post_incoming(body, signature=signature)
    assert response.status_code == 403
    assert inbox_size(service) == before


@SETTINGS
@given(data=st.data())
async def test_a_signed_form_with_odd_fields_is_stored_or_ignored_never_5xx(
    fake: FakeTwilio, service: Service, data: st.DataObject
) -> None:
    form = data.draw(odd_forms(fake))
    response = await fake.post_incoming(form)
    assert response.status_code < 500, (response.status_code, sorted(form))
    await settle(service)
    assert await app_of(service).store.inbox.count_pending() == 0


async def test_a_signed_form_posted_raw_with_odd_encoding_is_never_5xx(
    fake: FakeTwilio, service: Service
) -> None:
    form = fake.incoming(FAMILY, Body="halo")
    for raw in [b"\xff\xfe", b"a=%ZZ&b", b"=" * 100, urlencode(form).encode() + b"&&&="]:
        response = await fake.post_incoming(raw, signature="x")
        assert response.status_code == 403, raw
