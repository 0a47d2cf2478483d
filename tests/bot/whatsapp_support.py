"""Running the real bot (the twilio library included) against the fake Twilio API.

The service's web server is real (uvicorn on a free port); the fake posts signed
webhooks to it as Twilio would. The clock is the booking tests' settable one,
so the 24-hour window and reminders can be reached without waiting.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from booking_support import T0, WEEKDAYS, booking_config
from support import Clock, free_port
from support.rawdb import raw_query
from twilio_api import FakeTwilio

from bot.app import App
from bot.channels.whatsapp import protocol as whatsapp
from bot.config import Config, Web, WhatsApp, WhatsAppTemplates
from bot.core.texts import BotTexts
from bot.run import Service
from storage.records import Contact

FAMILY = "+6281234567001"
MODES = ("kantor", "telepon", "chat")
FAST = whatsapp.Tuning(
    per_chat_interval=0.0, max_per_second=1000.0, request_timeout=2.0, redelivery_delay=60.0
)
TEXTS = BotTexts.bundled()


def sid(digit: str) -> str:
    """A content template SID made of one repeated hex digit."""
    return "HX" + digit * 32


TEMPLATES = WhatsAppTemplates(
    reminder=sid("1"),
    new_message=sid("2"),
    follow_up=sid("3"),
    choices=((2, sid("4")), (3, sid("5")), (4, sid("6"))),
)


NO_TEMPLATES = WhatsAppTemplates()


def whatsapp_config(
    data_dir: Path,
    fake: FakeTwilio,
    *,
    templates: WhatsAppTemplates = NO_TEMPLATES,
    public_url: str = "",
) -> Config:
    port = free_port()
    return dataclasses.replace(
        booking_config(data_dir),
        whatsapp=WhatsApp(
            enabled=True,
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number=fake.sender,
            api_base_url=fake.url,
            templates=templates,
        ),
        web=Web(host="127.0.0.1", port=port, public_url=public_url or f"http://127.0.0.1:{port}"),
    )


@asynccontextmanager
async def running(
    config: Config,
    fake: FakeTwilio,
    clock: Clock | None = None,
    tuning: whatsapp.Tuning = FAST,
) -> AsyncIterator[Service]:
    service = Service(config, env={}, clock=clock or Clock(T0), options={"whatsapp": tuning})
    await service.start()
    assert service.web is not None
    fake.connect(config.web.public_url, deliver_to=f"http://127.0.0.1:{service.web.port}")
    try:
        yield service
    finally:
        await service.stop()


def app_of(service: Service) -> App:
    assert service.app is not None
    return service.app


async def settle(service: Service) -> None:
    """Waits until every stored message is processed and every due reply sent."""
    await app_of(service).wait_idle()


async def contact(service: Service, number: str = FAMILY) -> Contact:
    found = await app_of(service).store.contacts.find("whatsapp", number)
    assert found is not None, "no contact for this number"
    return found


async def say(service: Service, fake: FakeTwilio, text: str, number: str = FAMILY) -> str:
    """The family writes; returns the last thing the bot answered."""
    answer = await fake.send_text(number, text)
    assert answer.status_code == 200, answer.text
    await settle(service)
    return fake.texts_to(number)[-1]


def number_for(text: str, label: str) -> str:
    """The number in front of `label` in a numbered list of choices."""
    for line in text.splitlines():
        found = re.fullmatch(r"(\d+)\. (.+)", line.strip())
        if found and found.group(2).strip().lower().startswith(label.lower()):
            return found.group(1)
    raise AssertionError(f"no choice starting {label!r} in {text!r}")


def text(key: str, language: str = "id", **values: str) -> str:
    return TEXTS.get(key, language, **values)


def outbox_rows(service: Service) -> list[tuple[object, ...]]:
    """(id, status, last_error, ref) of every outbox row, oldest first."""
    return raw_query(
        app_of(service).config.database_path,
        "SELECT id, status, last_error, ref FROM outbox ORDER BY id",
    )


async def counsellor(service: Service) -> int:
    """Sari, with hours on weekdays 09.00-12.00 at the office, by phone and by chat."""
    store = app_of(service).store
    member = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    for day in WEEKDAYS:
        await store.bookings.add_hours(member.id, day, 9 * 60, 12 * 60, MODES, T0)
    return member.id


async def book_monday_at_ten(service: Service, fake: FakeTwilio, number: str = FAMILY) -> str:
    """A family writes for the first time and, typing the numbers it is shown, books
    Monday 7 December, 10.00 WIT, at the office; returns the confirmation's messages."""
    await say(service, fake, "halo", number)
    for label in (
        "Setuju",
        "Buat janji",
        "Datang ke kantor",
        "Senin, 7 Desember",
        "Senin, 7 Desember, pukul 10.00",
    ):
        await pick(service, fake, label, number)
    before = len(fake.texts_to(number))
    await pick(service, fake, "Ya", number)
    return "\n".join(fake.texts_to(number)[before:])


async def pick(service: Service, fake: FakeTwilio, label: str, number: str = FAMILY) -> None:
    """The family answers the last question with the choice labelled `label`: a tap on the
    template's button or list row when it came as one, else by typing its number."""
    question = fake.last_to(number)
    if question.content_sid:
        for key, shown in question.variables.items():
            if key != "1" and key.isdigit() and int(key) % 2 == 0 and shown.startswith(label):
                value = question.variables[str(int(key) + 1)]
                answer = await fake.press(number, value, shown)
                break
        else:
            raise AssertionError(f"no choice starting {label!r} in template {question.variables}")
    else:
        answer = await fake.send_text(number, number_for(question.body, label))
    assert answer.status_code == 200, answer.text
    await settle(service)
