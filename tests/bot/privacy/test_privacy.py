"""A family's rights, end to end in one process: my data, delete, withdraw, quick exit."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from bot_support import Bot, make_config, paragraphs, soon
from support import RecordingChannel

from bot.app import App
from bot.channels.base import Inbound, MessageDeleter, RetryLater
from bot.config import Retention
from bot.privacy.export import EXPORT_CHUNK_CHARS
from bot.privacy.worker import PrivacyWorker
from storage.crypto.keytree import KeyTree

WHO = "chat-1"
IN_A_MINUTE = timedelta(minutes=1)
MARKER = "RAHASIA-KELUARGA-3141"


class DeletingChannel(RecordingChannel):
    """A transport that can delete a chat's messages, as Telegram can."""

    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        self.delete_failures: list[RetryLater] = []

    async def delete_messages(
        self, address: str, sent_ids: Sequence[str], received_ids: Sequence[str]
    ) -> int:
        if self.delete_failures:
            raise self.delete_failures.pop()
        self.deleted.append((address, tuple(sent_ids), tuple(received_ids)))
        return len(sent_ids) + len(received_ids)


@pytest.fixture
async def deleting_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    channel = DeletingChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def consented(bot: Bot, who: str = WHO) -> None:
    await bot.start(who)
    await bot.send(who, "agree", kind="choice")


async def replies_to(bot: Bot, who: str, text: str, kind: str = "text") -> list[str]:
    before = len(bot.channel.sent)
    await bot.send(who, text, kind=kind)
    return [m.text for m in bot.channel.sent[before:] if m.address == who]


async def audit_actions(bot: Bot) -> list[tuple[str, str, str]]:
    return [(r.actor, r.action, r.subject) for r in await bot.app.store.audit.rows()]


# --- my data ----------------------------------------------------------------


async def test_my_data_sends_what_is_held_in_readable_form_and_is_audited(bot: Bot) -> None:
    await consented(bot)
    await bot.send(WHO, f"aku mau cerita {MARKER}")
    export = await replies_to(bot, WHO, "dataku")
    joined = "\n".join(export)
    assert MARKER in joined
    assert "setuju (teks persetujuan versi 2026-12-07)" in joined
    assert "(memilih: Setuju)" in joined, "a pressed button is named by its label"
    assert "consent" not in joined, "no variable of the bot's own is listed"
    assert "Itu semua data tentang Anda yang kami simpan." in export[-1]
    assert all(len(text) <= EXPORT_CHUNK_CHARS for text in export)
    assert await audit_actions(bot) == [("family:1", "export", "contact:1")]


async def test_a_long_history_comes_in_several_messages_any_channel_can_take(bot: Bot) -> None:
    await consented(bot)
    for n in range(8):
        await bot.send(WHO, f"bagian {n} " + "cerita panjang " * 40)
    export = await replies_to(bot, WHO, "/mydata")
    assert len(export) > 3
    assert all(len(text) <= EXPORT_CHUNK_CHARS for text in export)
    joined = "\n".join(export)
    assert all(f"bagian {n} " in joined for n in range(8))


async def test_my_data_is_withheld_when_a_case_is_flagged_as_a_safety_risk(bot: Bot) -> None:
    await consented(bot)
    await bot.send(WHO, f"suami saya memukuli saya sekarang {MARKER}")
    case = await bot.app.store.cases.open_for(1)
    assert case is not None
    flagged = await bot.app.store.privacy.set_safety_risk(
        case.code, True, "staff:3", "the husband reads her phone"
    )
    assert flagged is not None
    export = await replies_to(bot, WHO, "dataku")
    assert len(export) == 1
    assert "tidak dapat kami kirim lewat chat" in export[0] and "LK3 Kota Ambon" in export[0]
    assert MARKER not in export[0]
    assert (await audit_actions(bot))[-2:] == [
        ("staff:3", "flag_safety_risk", f"case:{case.code}"),
        ("family:1", "export_withheld", "contact:1"),
    ]


# --- delete -----------------------------------------------------------------


async def test_delete_asks_first_and_no_keeps_everything(bot: Bot) -> None:
    await consented(bot)
    asked = await replies_to(bot, WHO, "hapus")
    assert "tidak bisa dibatalkan" in asked[0]
    assert [v for v, _ in bot.channel.sent[-1].options] == ["yes", "no"]
    kept = await replies_to(bot, WHO, "tidak")
    assert paragraphs(kept)[0] == "Baik, data Anda tidak dihapus."
    assert await bot.app.store.privacy.subject(1) is not None


async def test_delete_sends_the_farewell_then_destroys_the_key(bot: Bot) -> None:
    await consented(bot)
    await bot.send(WHO, f"ini rahasia {MARKER}")
    await bot.send(WHO, "hapus")
    farewell = await replies_to(bot, WHO, "ya")
    assert farewell[0].startswith("Data Anda sudah kami hapus.") and "112" in farewell[0]
    store = bot.app.store
    assert store.erasure.is_erased(1) and await store.erasure.unfinished() == 0
    assert await store.contacts.get(1) is None
    assert await store.privacy.subject(1) is None
    assert [a for _, a, _ in await audit_actions(bot)] == ["erase", "destroy_key"]
    tree = KeyTree.load(bot.app.config.keytree_path)
    assert tree.leaf(1) is None
    # Writing again starts afresh, as a new person.
    again = await replies_to(bot, WHO, "halo")
    assert "selamat datang di layanan" in again[0].lower()
    fresh = await store.contacts.find("test", WHO)
    assert fresh is not None and fresh.id == 2


# --- withdraw ---------------------------------------------------------------


async def test_withdrawal_stops_processing_and_only_a_crisis_gets_through(bot: Bot) -> None:
    await consented(bot)
    said = await replies_to(bot, WHO, "berhenti")
    assert "persetujuan Anda sudah kami catat sebagai ditarik" in said[0]
    consent = await bot.app.store.consents.latest(1)
    assert consent is not None and not consent.given

    note = await replies_to(bot, WHO, f"rahasia keluarga {MARKER}")
    assert note == [
        "Anda sudah menghentikan layanan ini, jadi pesan Anda tidak kami proses. Ketik *mulai*"
        " jika ingin memulai lagi. Jika Anda dalam bahaya, ketik *bantuan*."
    ]
    data = await bot.app.store.privacy.subject(1)
    assert data is not None and MARKER not in "".join(m.text for m in data.messages)
    assert await replies_to(bot, WHO, "1") == note, "old buttons are not answered either"

    crisis = "\n".join(await replies_to(bot, WHO, "suami saya mau bunuh saya"))
    assert "112" in crisis and "129" in crisis
    case = await bot.app.store.cases.open_for(1)
    assert case is not None and case.urgency == "darurat"
    # With a case open, retention keeps the contact for the counsellor.
    assert (await bot.app.retention.run_once()).due == ()


async def test_withdrawal_is_erased_at_the_next_retention_run(bot: Bot) -> None:
    await consented(bot)
    await bot.send(WHO, "berhenti")
    report = await bot.app.retention.run_once()
    assert report.counts() == {"withdrawal": 1} and report.erased == 1
    assert await bot.app.store.contacts.get(1) is None
    assert bot.app.store.erasure.is_erased(1)


async def test_mulai_asks_for_consent_again_and_agreeing_ends_the_withdrawal(bot: Bot) -> None:
    await consented(bot)
    await bot.send(WHO, "berhenti")
    asked = await replies_to(bot, WHO, "mulai")
    assert asked[0] == "Baik, mari kita mulai lagi."
    assert [v for v, _ in bot.channel.sent[-1].options] == ["agree", "decline"]
    await bot.send(WHO, "1")
    menu = await replies_to(bot, WHO, "menu")
    assert menu == ["Apa yang bisa kami bantu? Silakan pilih:"]
    assert (await bot.app.retention.run_once()).due == ()


# --- quick exit -------------------------------------------------------------


async def test_quick_exit_answers_neutrally_and_deletes_the_chat(deleting_bot: Bot) -> None:
    bot = deleting_bot
    channel = bot.channel
    assert isinstance(channel, DeletingChannel) and isinstance(channel, MessageDeleter)
    await consented(bot)
    await bot.send(WHO, f"saya takut {MARKER}")
    sent_before = tuple(f"p{m.outbox_id}" for m in channel.sent)
    assert await replies_to(bot, WHO, "keluar") == ["Oke, terima kasih."]
    assert channel.deleted == [
        (WHO, sent_before, (f"start-{WHO}", "m1", "m2", "m3")),
    ]


async def test_quick_exit_cancels_replies_still_waiting(deleting_bot: Bot) -> None:
    bot = deleting_bot
    await consented(bot)
    await bot.app.sender.stop()  # replies pile up, as on a slow network
    for text in ("menu", "2", "dataku", "keluar"):
        bot.counter += 1
        await bot.app.receive(Inbound("test", f"m{bot.counter}", WHO, "text", text))
    await bot.app.pipeline.wait_idle()
    due = await bot.app.store.outbox.due(soon())
    assert [r.text for r in due] == ["Oke, terima kasih."]


async def test_a_failed_deletion_is_tried_again(deleting_bot: Bot) -> None:
    bot = deleting_bot
    channel = bot.channel
    assert isinstance(channel, DeletingChannel)
    await consented(bot)
    channel.delete_failures.append(RetryLater("429"))
    await bot.send(WHO, "keluar")
    assert channel.deleted == []
    assert await bot.app.store.privacy.count_cleanups(done=False) == 1
    await bot.app.privacy.run_once()
    assert channel.deleted == [], "not again at once: it waits a little longer each time"
    later = PrivacyWorker(bot.app.store, {"test": channel}, clock=lambda: soon() + IN_A_MINUTE)
    await later.run_once()
    assert len(channel.deleted) == 1
    assert await bot.app.store.privacy.count_cleanups(done=False) == 0


async def test_quick_exit_on_a_channel_that_cannot_delete_just_ends(bot: Bot) -> None:
    await consented(bot)
    assert await replies_to(bot, WHO, "exit") == ["Oke, terima kasih."]
    assert await bot.app.store.privacy.count_cleanups(done=False) == 0
    assert await bot.app.store.privacy.count_cleanups(done=True) == 1


async def test_the_consent_text_quotes_the_configured_retention(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data")
    config = dataclasses.replace(
        config, retention=Retention(closed_case_days=400, first_contact_days=45, log_days=7)
    )
    channel = RecordingChannel()
    app = await App.open(config, [channel], env={})
    await app.start()
    try:
        await Bot(app, channel).start(WHO)
    finally:
        await app.stop()
    consent = next(m.text for m in channel.sent if "Berapa lama" in m.text)
    assert "• Berapa lama: 400 hari setelah kasus Anda ditutup." in consent
    assert "data dihapus 45 hari setelah pesan terakhir Anda." in consent
