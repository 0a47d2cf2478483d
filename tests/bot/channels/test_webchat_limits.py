"""The web chat's limits: they slow a flood and never lose a person's words.

Bad input gets a kind note; posts and polls over their limits are held back with the
time to wait (a crisis never is); a questionnaire and families behind one network
address never meet them; a long message is taken whole and read in part.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Clock
from webchat_support import Chat, Site, Ticks, form, open_site, say

from bot.channels.webchat.page import MAX_CHARS, POLLS_PER_POST, Limits


@pytest.mark.parametrize(
    ("fields", "status", "note"),
    [
        ({"text": "x" * (MAX_CHARS + 1)}, 400, "terlalu panjang"),
        ({"text": "x" * 3 + "\u200b" * MAX_CHARS}, 400, "terlalu panjang"),
        ({"text": "   "}, 400, "masih kosong"),
        ({}, 400, "masih kosong"),
    ],
)
async def test_bad_input_gets_a_kind_note_and_reaches_no_one(
    chat: Chat, fields: dict[str, str], status: int, note: str
) -> None:
    response = await chat.say(**fields)
    assert response.status_code == status
    assert note in response.text
    assert await chat.lines() == []
    assert await chat.app.store.handoff.queue() == []


async def test_a_long_message_note_comes_back_as_json_for_the_script(chat: Chat) -> None:
    csrf, mid = await form(chat.http)
    response = await chat.http.post(
        "/chat/send",
        data={"csrf": csrf, "mid": mid, "text": "y" * (MAX_CHARS + 5), "lang": "en"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "too long" in response.json()["notice"] and str(MAX_CHARS) in response.json()["notice"]


async def test_posts_over_the_limit_are_held_back_with_the_words_kept_then_taken(
    chat: Chat, ticks: Ticks
) -> None:
    statuses = [(await chat.say(text=f"halo {n}")).status_code for n in range(6)]
    assert statuses == [303] * 5 + [429]
    refused = await chat.say(text="aku mau tanya jam buka")
    assert "tunggu sebentar" in refused.text and "112" in refused.text
    assert ">aku mau tanya jam buka</textarea>" in refused.text  # the words are still there
    ticks.now += 61
    assert (await chat.say(text="sekarang boleh")).status_code == 303


async def test_the_script_is_told_how_long_to_wait_before_it_sends_again(
    chat: Chat, ticks: Ticks
) -> None:
    for n in range(5):
        await chat.say(text=f"halo {n}")
        ticks.now += 2
    csrf, mid = await form(chat.http)
    held = await chat.http.post(
        "/chat/send",
        data={"csrf": csrf, "mid": mid, "text": "oke", "lang": "id"},
        headers={"Accept": "application/json"},
    )
    assert held.status_code == 429
    assert held.json()["retry"] == 50.0 and held.headers["Retry-After"] == "50"
    assert "mengirimnya sendiri" in held.json()["notice"]


async def test_a_crisis_after_many_quick_lines_is_never_held_back_by_the_limit(
    chat: Chat,
) -> None:
    """The report: after eleven quick short lines the twelfth, a threat with a machete,
    got only a notice, with nothing stored, no case and no alert."""
    for line in ["kak", "tolong", "aku takut", "kak", "halo"]:
        await chat.say(text=line)
    crisis = await chat.say(text="dia bawa parang mau bunuh mama sekarang")
    assert crisis.status_code == 303
    queue = await chat.app.store.handoff.queue()
    assert [case.urgency for case in queue] == ["darurat"]
    mine = [line["text"] for line in await chat.lines() if line["who"] == "you"]
    assert mine[-1] == "dia bawa parang mau bunuh mama sekarang"


async def test_a_questionnaire_answered_every_second_never_meets_the_default_limit(
    tmp_path: Path, clock: Clock, ticks: Ticks
) -> None:
    site = await open_site(tmp_path / "data", clock, ticks, limits=Limits(poll_seconds=0.05))
    try:
        async with site.browser() as http:
            statuses = []
            for n in range(40):
                statuses.append((await say(site, http, text=f"{n % 2 + 1}")).status_code)
                ticks.now += 1
        assert set(statuses) == {303}
    finally:
        await site.close()


async def test_families_talking_behind_one_network_address_do_not_share_a_limit(
    site: Site, ticks: Ticks
) -> None:
    """Mobile operators put many phones behind one address: the network's limit counts
    conversations starting, not the messages of conversations under way."""
    families = [site.browser() for _ in range(4)]
    try:
        statuses = []
        for round_ in range(4):
            for http in families:
                statuses.append((await say(site, http, text=f"pesan {round_}")).status_code)
            ticks.now += 5
        assert set(statuses) == {303}
    finally:
        for http in families:
            await http.aclose()


async def test_a_long_message_is_taken_whole_checked_whole_and_read_in_part(chat: Chat) -> None:
    """5,000 characters: stored, the crisis check reads the end too, the bot says it read
    the first part, and nothing is refused."""
    story = ("Saya mau cerita panjang tentang keluarga kami. " * 100)[:4900]
    text = story + " Malam ini suami saya bilang mau bunuh saya pakai parang."
    response = await chat.say(text=text)
    assert response.status_code == 303
    mine = [line["text"] for line in await chat.lines() if line["who"] == "you"]
    assert mine == [text]
    assert [case.urgency for case in await chat.app.store.handoff.queue()] == ["darurat"]
    replies = " ".join(str(line["text"]) for line in await chat.lines() if line["who"] == "bot")
    assert "2000 karakter pertama" in replies


async def test_the_page_counts_down_to_what_the_bot_reads_at_once(chat: Chat) -> None:
    page = (await chat.http.get("/chat")).text
    assert f'maxlength="{MAX_CHARS}"' in page
    assert 'data-read="2000"' in page and "Sisa {left} karakter" in page


async def test_polls_are_limited_per_address_then_allowed_again(chat: Chat, ticks: Ticks) -> None:
    await chat.http.get("/chat")  # the page gives the conversation its cookie
    limit = Limits().polls_per_address
    statuses = [
        (await chat.http.get("/chat/replies?after=0&wait=0")).status_code for _ in range(limit)
    ]
    assert statuses == [200] * limit
    refused = await chat.http.get("/chat/replies?after=0&wait=0")
    assert refused.status_code == 429 and refused.json()["lines"] == []
    ticks.now += 61
    assert (await chat.http.get("/chat/replies?after=0&wait=0")).status_code == 200


async def test_each_message_posted_buys_the_polls_that_bring_its_replies(chat: Chat) -> None:
    """A burst of messages and replies never leaves the page unable to show the answer."""
    for n in range(5):  # as many as the conversation may post in a minute here
        assert (await chat.say(text=f"kak {n}")).status_code == 303
    allowed = Limits().polls_per_address + POLLS_PER_POST * 5
    statuses = [
        (await chat.http.get("/chat/replies?after=0&wait=0")).status_code for _ in range(allowed)
    ]
    assert statuses == [200] * allowed
    assert (await chat.http.get("/chat/replies?after=0&wait=0")).status_code == 429


async def test_new_cookies_do_not_escape_the_per_network_limit(chat: Chat) -> None:
    statuses = []
    for n in range(9):
        chat.http.cookies.clear()
        statuses.append((await chat.say(text=f"halo {n}")).status_code)
    assert statuses == [303] * 8 + [429]


async def test_a_crisis_starting_a_conversation_past_the_network_limit_is_taken(
    chat: Chat,
) -> None:
    """Many families share one carrier's address: once it has started its conversations
    for the minute, a family whose first words are a cry for help is still taken."""
    for n in range(8):
        chat.http.cookies.clear()
        assert (await chat.say(text=f"halo {n}")).status_code == 303
    chat.http.cookies.clear()
    assert (await chat.say(text="halo lagi")).status_code == 429  # an ordinary start waits
    assert (await chat.say(text="tolong suami saya mau bunuh saya sekarang")).status_code == 303
    [case] = await chat.app.store.handoff.queue()
    assert case.urgency == "darurat"
    assert (await chat.say(text="iya")).status_code == 303  # their conversation goes on


async def test_a_start_refused_by_the_network_limit_leaves_no_mark(chat: Chat) -> None:
    """The same cookie posting again is still a conversation starting, still refused."""
    for n in range(8):
        chat.http.cookies.clear()
        assert (await chat.say(text=f"halo {n}")).status_code == 303
    chat.http.cookies.clear()
    assert [(await chat.say(text=f"halo lagi {n}")).status_code for n in range(3)] == [429] * 3


async def test_new_cookies_with_crisis_words_still_meet_a_limit(chat: Chat) -> None:
    """New cookies are free: a flood of made-up crises from one network address would
    otherwise open an urgent case and alert counsellors for each, without limit. Past
    the ordinary allowance (8 here) it has a small one of its own (3 here)."""
    statuses = []
    for n in range(12):
        chat.http.cookies.clear()
        statuses.append((await chat.say(text=f"dia mau bunuh saya sekarang {n}")).status_code)
    assert statuses == [303] * 11 + [429]
    assert len(await chat.app.store.handoff.queue()) == 11


async def test_an_over_long_post_with_a_cry_for_help_is_taken_whole(chat: Chat) -> None:
    """Only a script gets past the text box's limit, yet a crisis in it is not dropped."""
    idle = "x " * MAX_CHARS
    assert (await chat.say(text=idle)).status_code == 400
    crisis = idle + " suami saya mau bunuh saya sekarang"
    assert (await chat.say(text=crisis)).status_code == 303, "taken whole, the end checked too"
    [case] = await chat.app.store.handoff.queue()
    assert case.urgency == "darurat"


async def test_a_poll_without_the_cookie_is_refused(chat: Chat) -> None:
    response = await chat.http.get("/chat/replies?after=0&wait=0")
    assert response.status_code == 403
