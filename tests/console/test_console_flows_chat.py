"""The test chat on the flows page: the DRAFT answers as it would answer a family, and
nothing happens in the world: no case, no alert, no row, no log line.

Driven over HTTP like the page's script does it (the panel comes back as JSON) and
as a plain form (the whole page), and checked against `bot.flowhost.turn.plan_turn`, which
decides real messages, so that the two cannot drift apart.
"""

from __future__ import annotations

import html
import logging
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from console_support import add_staff, client, csrf_of, login
from support import Clock

from bot.booking.host import BookingContext
from bot.console.core import Console
from bot.console.draft_chat import MAX_LINES, Chat, ChatSeal, ChatTokenError, Line, say, start
from bot.console.office import Office
from bot.flowhost.turn import plan_turn
from bot.safety import Classifier
from flows.exchange import ChannelCaps, Context

URL = "/console/flows/{flow}/chat"
_TOKEN = re.compile(r'name="chat" value="([^"]*)"')
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
_LINE = re.compile(r'<li class="([^"]+)">(.*?)</li>', re.S)
_BUTTON = re.compile(r'<button type="submit" name="choice" value="([^"]*)"')
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Panel:
    """The chat panel as the script receives it: its token, lines and buttons."""

    token: str
    csrf: str
    lines: list[tuple[str, str]]  # (css class, text)
    choices: list[str]
    added: int

    def texts(self, css: str) -> list[str]:
        return [text for kind, text in self.lines if css in kind.split()]

    def last(self, count: int) -> list[str]:
        return [text for _, text in self.lines[-count:]]


def panel_of(page: str, added: int = 0) -> Panel:
    token = _TOKEN.search(page)
    csrf = _CSRF.search(page)
    assert token is not None and csrf is not None
    lines = [
        (kind, html.unescape(_TAGS.sub(" ", body)).strip())
        for kind, body in _LINE.findall(page.split('class="transcript chat-log"', 1)[1])
    ]
    lines = [(kind, " ".join(text.split())) for kind, text in lines]
    return Panel(token.group(1), csrf.group(1), lines, _BUTTON.findall(page), added)


class ChatPage:
    """An admin with the flows page open, chatting through the page's script route."""

    def __init__(self, http: httpx.AsyncClient, office: Office, flow: str = "welcome") -> None:
        self.http = http
        self.flow = flow
        self.draft = office.flows.source(flow)
        self.panel: Panel | None = None

    async def open(self) -> Panel:
        page = await self.http.get(f"/console/flows/{self.flow}")
        assert page.status_code == 200
        self.panel = panel_of(page.text)
        return self.panel

    async def post(self, **fields: str) -> httpx.Response:
        assert self.panel is not None
        data = {
            "csrf": self.panel.csrf,
            "source": self.draft,
            "chat": self.panel.token,
            **fields,
        }
        return await self.http.post(
            URL.format(flow=self.flow), data=data, headers={"Accept": "application/json"}
        )

    async def send(self, **fields: str) -> Panel:
        response = await self.post(**fields)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert self.panel is not None
        self.panel = panel_of(answer["html"], answer["added"])
        return self.panel


async def signed_in(console: Console, clock: Clock, http: httpx.AsyncClient) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    await login(http, "ana", secret, clock)


def dump(database: Path) -> list[str]:
    """Every row of the database as SQL text (read beside the running store, as a backup does).

    Without the count of transactions (storage/engine/commits.py): a sign-in's session
    touch commits, and what is compared is what was written, not how often.
    """
    with sqlite3.connect(database) as db:
        return [line for line in db.iterdump() if "'lk3 commits'" not in line]


async def test_a_triage_path_to_danger_shows_the_handoff_and_does_nothing(
    console: Console,
    office: Office,
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with client(console) as http:
        await signed_in(console, clock, http)
        tester = ChatPage(http, office, "triage")
        opened = await tester.open()
        before = dump(tmp_path / "lk3.db")
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            assert opened.texts("out")[-1].startswith("Bot Masalah apa yang paling ingin")
            assert "kdrt" in opened.choices
            chosen = await tester.send(choice="kdrt", text="")
            assert chosen.texts("in")[-1] == "Keluarga Kekerasan rumah tangga"  # the label
            assert "apakah Anda, atau seorang anak, sedang dalam bahaya" in chosen.last(1)[0]
            danger = await tester.send(text="ya")
        after = dump(tmp_path / "lk3.db")
    shown = danger.last(danger.added)
    assert shown[0] == "Keluarga ya"
    assert "(akan dilakukan: open_case category=kdrt urgency=darurat)" in shown
    assert "(akan dilakukan: handoff reason=danger_now)" in shown
    assert any("112" in line for line in shown)  # the hotlines: the bot's own placeholders
    assert danger.texts("out")[-1].startswith("Bot Apakah Anda sekarang berada di tempat yang aman")
    # Shown, not done: no case, no alert, no message, nothing written at all, nothing logged.
    assert after == before
    assert [r.name for r in caplog.records if r.name.startswith(("bot", "flows"))] == []


async def test_what_the_bot_would_refuse_in_an_effect_is_shown_as_a_flow_error(
    console: Console, office: Office, clock: Clock
) -> None:
    async with client(console) as http:
        await signed_in(console, clock, http)
        tester = ChatPage(http, office, "triage")
        await tester.open()
        good = '{ name = "open_case", category = "{answers.case_category}", urgency = "darurat" }'
        bad = '{ name = "open_case", category = "Kekerasan Rumah", urgency = "darurat" }'
        assert good in tester.draft
        tester.draft = tester.draft.replace(good, bad, 1)
        await tester.send(action="restart")
        await tester.send(choice="kdrt")
        danger = await tester.send(text="ya")
    shown = danger.last(danger.added)
    assert "(akan dilakukan: open_case category=Kekerasan Rumah urgency=darurat)" in shown
    assert shown[-1] == (
        "(kesalahan alur: kategori kasus yang tidak dikenal"
        " di effect open_case: not a category code)"
    )


async def test_a_choice_can_be_typed_as_a_family_would_type_it(
    console: Console, office: Office, clock: Clock
) -> None:
    async with client(console) as http:
        await signed_in(console, clock, http)
        tester = ChatPage(http, office, "triage")
        await tester.open()
        typed = await tester.send(text="Cerai")
    assert typed.texts("in")[-1] == "Keluarga Cerai"
    assert "sedang dalam bahaya saat ini" in typed.last(1)[0]
    assert typed.choices == ["yes", "no"]


async def test_restart_begins_the_chosen_flow_again_in_the_chosen_language(
    console: Console, office: Office, clock: Clock
) -> None:
    async with client(console) as http:
        await signed_in(console, clock, http)
        tester = ChatPage(http, office, "triage")
        first = await tester.open()
        await tester.send(choice="anak")
        again = await tester.send(action="restart")
        assert again.lines == first.lines
        english = await tester.send(action="restart", chat_flow="welcome", chat_lang="en")
    assert english.texts("out")[0].startswith("Bot Hello, welcome to the chat service of LK3")
    assert not english.texts("in")


async def test_an_urgent_message_switches_to_the_crisis_flow_as_the_pipeline_would(
    console: Console, office: Office, clock: Clock
) -> None:
    async with client(console) as http:
        await signed_in(console, clock, http)
        tester = ChatPage(http, office, "welcome")
        await tester.open()
        urgent = await tester.send(text="saya mau bunuh diri")
        shown = urgent.last(urgent.added)
        assert shown[0] == "Keluarga saya mau bunuh diri"
        rules = "urgent [suicide.intent, suicide.mention]"
        assert shown[1] == f"(pemeriksaan krisis: {rules} → beralih ke alur crisis)"
        assert "(akan dilakukan: open_case category=krisis urgency=darurat)" in shown
        assert "(akan dilakukan: handoff reason=crisis)" in shown
        # Inside the crisis flow, a second urgent message is noted and stays there.
        again = await tester.send(text="saya mau bunuh diri")
        assert again.last(again.added)[1] == (
            f"(pemeriksaan krisis: {rules}; sudah di alur yang tepat)"
        )
        worried = await ChatPage(http, office, "triage").open()
        tester.flow, tester.draft, tester.panel = "triage", office.flows.source("triage"), worried
        check = await tester.send(text="saya merasa putus asa")
    assert check.last(check.added)[1] == (
        "(pemeriksaan krisis: check [hopeless] → beralih ke alur safety_check)"
    )


async def test_the_chat_runs_the_draft_not_the_published_flow(
    console: Console, office: Office, clock: Clock
) -> None:
    before = office.flows.library.current_version("welcome")
    async with client(console) as http:
        await signed_in(console, clock, http)
        tester = ChatPage(http, office, "welcome")
        await tester.open()
        tester.draft = tester.draft.replace(
            "Halo, selamat datang di layanan chat", "Salam hangat dari", 1
        )
        restarted = await tester.send(action="restart")
        tester.draft = tester.draft.replace('next = "consent_ask"', 'next = "consent_aks"', 1)
        broken = await tester.post(text="halo")
    assert restarted.texts("out")[0].startswith("Bot Salam hangat dari LK3 Kota Ambon")
    assert broken.status_code == 400
    assert broken.json() == {
        "error": "Chat percobaan butuh rancangan yang valid. Perbaiki masalahnya dulu."
    }
    assert office.flows.library.current_version("welcome") == before


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),  # the seal changed
        lambda token: "A" + token[1:],  # the content changed
        lambda token: token.split(".")[0],  # no seal at all
        lambda token: "garbled ✗ . text",
        lambda token: "x" * 250_000,
    ],
    ids=["seal", "content", "unsealed", "garbled", "too long"],
)
async def test_a_forged_or_garbled_chat_is_refused_with_a_clear_400(
    console: Console, office: Office, clock: Clock, forge: object
) -> None:
    async with client(console) as http:
        await signed_in(console, clock, http)
        tester = ChatPage(http, office, "welcome")
        panel = await tester.open()
        panel.token = forge(panel.token)  # type: ignore[operator]
        response = await tester.post(text="halo")
        assert response.status_code == 400
        assert response.json() == {
            "error": "Chat percobaan ini tidak bisa dilanjutkan (halaman lama atau rusak)."
            " Tekan Mulai ulang."
        }
        plain = await http.post(
            URL.format(flow="welcome"),
            data={"csrf": panel.csrf, "source": tester.draft, "chat": panel.token, "text": "x"},
        )
        assert plain.status_code == 400 and "Tekan Mulai ulang." in plain.text
        restarted = await tester.send(action="restart")  # the way out works
    assert restarted.texts("out")


async def test_a_chat_sealed_for_another_page_or_session_is_refused(
    console: Console, office: Office, clock: Clock
) -> None:
    async with client(console) as http, client(console) as other:
        await signed_in(console, clock, http)
        welcome = await ChatPage(http, office, "welcome").open()
        triage = ChatPage(http, office, "triage")
        await triage.open()
        assert triage.panel is not None
        triage.panel.token = welcome.token
        assert (await triage.post(text="halo")).status_code == 400
        _, secret = await add_staff(console, "budi", ("admin",))
        await login(other, "budi", secret, clock)
        budi = ChatPage(other, office, "welcome")
        await budi.open()
        assert budi.panel is not None
        budi.panel.token = welcome.token
        assert (await budi.post(text="halo")).status_code == 400


async def test_without_script_the_chat_is_a_plain_form_answered_with_the_whole_page(
    console: Console, office: Office, clock: Clock
) -> None:
    async with client(console) as http:
        await signed_in(console, clock, http)
        page = await http.get("/console/flows/triage")
        panel = panel_of(page.text)
        draft = office.flows.source("triage")
        response = await http.post(
            URL.format(flow="triage"),
            data={"csrf": panel.csrf, "source": draft, "chat": panel.token, "choice": "anak"},
        )
    assert response.status_code == 200
    assert "<h1>triage:" in response.text  # the page, with the editor as it was
    answered = panel_of(response.text)
    assert answered.texts("in") == ["Keluarga Anak dan pengasuhan"]
    assert "sedang dalam bahaya saat ini" in answered.last(1)[0]
    assert html.escape(draft, quote=True).split("\n")[0] in response.text


async def test_a_long_chat_keeps_only_its_latest_lines_so_the_page_stays_small(
    console: Console, office: Office, clock: Clock
) -> None:
    async with client(console) as http:
        await signed_in(console, clock, http)
        tester = ChatPage(http, office, "welcome")
        await tester.open()
        for _ in range(30):
            panel = await tester.send(text="menu")
    assert len(panel.lines) == MAX_LINES
    assert panel.lines[-panel.added][1] == "Keluarga menu"
    assert len(panel.token) < 20_000


async def test_only_admins_may_use_the_test_chat(
    console: Console, office: Office, clock: Clock
) -> None:
    _, secret = await add_staff(console, "sari", ("counsellor", "supervisor"))
    async with client(console) as http:
        await login(http, "sari", secret, clock)
        token = csrf_of((await http.get("/console/")).text)
        response = await http.post(
            URL.format(flow="welcome"),
            data={"csrf": token, "source": office.flows.source("welcome"), "text": "halo"},
        )
        assert response.status_code == 403
        refused = await http.post(URL.format(flow="welcome"), data={"text": "halo"})
        assert refused.status_code == 403


# --- the same decisions as the pipeline ----------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        ["ya", "2", "halo", "menu"],
        ["saya mau bunuh diri", "tidak aman"],
        ["setuju", "saya merasa putus asa", "ya"],
        ["tidak", "berhenti", "halo", "mulai"],
        ["setuju", "3", "kdrt", "tidak", "ya"],
        ["halo " * 500, "setuju"],
    ],
    ids=["menu", "crisis", "check", "withdrawn", "triage", "too long"],
)
async def test_each_turn_leaves_the_state_plan_turn_would_leave(
    office: Office, clock: Clock, script: list[str]
) -> None:
    library, texts, config = office.flows.library, office.texts, office.config
    window = BookingContext(None, config.booking.hold_minutes)
    ctx = Context(
        now=clock(),
        channel=ChannelCaps(buttons=True, max_choices=10),
        values=window.values(config.context_values("id"), "id"),
        default_language="id",
        options=window.options,
    )
    classifier = Classifier.bundled()
    chat = start(library, "welcome", "id", ctx, texts)
    for text in script:
        assessment = classifier.classify(text)
        planned = plan_turn(
            library=library,
            state=chat.state,
            kind="text",
            text=text,
            assessment=assessment,
            ctx=ctx,
            texts=texts,
            max_chars=config.max_message_chars,
        )
        chat = say(
            chat,
            library,
            kind="text",
            text=text,
            assessment=assessment,
            ctx=ctx,
            texts=texts,
            max_chars=config.max_message_chars,
        )
        assert chat.state == planned.state
        bot = [line.text for line in chat.lines if line.kind == "bot"]
        assert bot[-len(planned.replies) :] == [reply.text for reply in planned.replies]


def test_a_sealed_chat_opens_again_only_for_its_binding() -> None:
    seal = ChatSeal(b"k" * 32)
    chat = Chat("welcome", "id", None, (Line("you", "<b>&</b>"), Line("end", "")))
    token = seal.seal(chat, "session|welcome")
    assert seal.open(token, "session|welcome") == chat
    for binding in ("session|triage", "other|welcome"):
        with pytest.raises(ChatTokenError):
            seal.open(token, binding)
    with pytest.raises(ChatTokenError):
        ChatSeal(b"j" * 32).open(token, "session|welcome")
