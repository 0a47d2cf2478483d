"""A family's rights on Telegram, end to end: the real python-telegram-bot and the fake Bot API.

Declining consent keeps no word they wrote; "dataku" reads as words; deleting says
what was deleted.
"""

from __future__ import annotations

import pytest
from bot_support import paragraphs
from telegram_api import FakeTelegram
from telegram_support import app_of, contact, running, settle

from bot.config import Config

pytestmark = pytest.mark.e2e

FAMILY = 5151
FIRST = "halo kak, saya mau tanya-tanya dulu RAHASIA-TG-9001"


async def test_declining_keeps_no_word_and_my_data_reads_as_words(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_text(FAMILY, FIRST))
        assert fake.latest_keyboard(FAMILY).buttons()[1] == ("Tidak setuju", "decline")
        await settle(service, fake, fake.press(FAMILY, "decline"))
        await settle(service, fake, fake.send_text(FAMILY, "info dong RAHASIA-TG-9002"))
        me = await contact(service, FAMILY)
        data = await app_of(service).store.privacy.subject(me.id)
        assert data is not None and [m.text for m in data.messages if m.text] == []

        before = len(fake.texts(FAMILY))
        await settle(service, fake, fake.send_text(FAMILY, "dataku"))
        export = "\n".join(fake.texts(FAMILY)[before:])
        assert "RAHASIA" not in export
        assert "tidak setuju (teks persetujuan versi" in export
        assert "consent" not in export and "limited_choice" not in export

        before = len(fake.texts(FAMILY))
        await settle(service, fake, fake.send_text(FAMILY, "hapus"))
        await settle(service, fake, fake.press(FAMILY, "yes"))
        said = paragraphs(fake.texts(FAMILY)[before:])
        done = said.index("Data Anda sudah kami hapus.")
        assert said[done + 1].startswith("Yang kami hapus:\n• ")
        assert "catatan persetujuan Anda" in said[done + 1]
