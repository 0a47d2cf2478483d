"""The conversation's language: settled by the first typed message, a start link, or a switch.

English and Indonesian are told apart; Ambonese Malay and Jakarta slang are
Indonesian; a short or mixed message keeps the language the conversation has. Once
settled, only a switch ("english please", "bahasa indonesia", the language
question) changes it, and everything said after follows.
"""

from __future__ import annotations

import pytest

from flows.anywhere import LANGUAGE_VAR, turn_language
from flows.engine import step
from flows.exchange import Context, Effect, Input, Turn
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.state import SessionState
from flows.understanding.language import detect


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello, I need some help please", "en"),
        ("what are your opening hours?", "en"),
        ("my husband hits me and I do not know what to do", "en"),
        ("Selamat pagi, saya mau tanya soal konsultasi", "id"),
        ("beta mau cerita soal beta pung laki", "id"),  # Ambonese Malay
        ("gue pengen ngobrol aja sama konselor", "id"),  # Jakarta slang
        ("sy mw tny jam buka kntor", "id"),  # typed in a hurry
        ("halo", None),  # too short to say
        ("hello", None),
        ("ok", None),
        ("2", None),
        ("pake bahasa indo aja ya, my english is bad", None),  # mixed
    ],
)
def test_the_detector_tells_english_from_indonesian_or_says_it_cannot(
    text: str, language: str | None
) -> None:
    assert detect(text) == language


def play(lib: FlowLibrary, ctx: Context, inputs: list[Input]) -> list[Turn]:
    turns: list[Turn] = []
    state: SessionState | None = None
    for inp in inputs:
        turn = step(lib, state, inp, ctx)
        turns.append(turn)
        state = turn.state
    return turns


def send(text: str) -> Input:
    return Input("text", text=text)


def switches(turn: Turn) -> list[str]:
    return [e.param("language") for e in turn.effects() if e.name == "set_language"]


def test_an_english_first_message_starts_in_english_and_tells_the_host(
    bundled: FlowLibrary, ctx: Context
) -> None:
    (turn,) = play(bundled, ctx, [send("Hello, I need some help please")])
    assert turn.state.language == "en"
    assert switches(turn) == ["en"]  # the host records the contact's language
    assert turn.messages()[0].text.startswith("Hello, welcome to the chat service")


def test_the_first_clear_message_settles_the_language_and_later_ones_do_not_change_it(
    bundled: FlowLibrary, ctx: Context
) -> None:
    turns = play(
        bundled,
        ctx,
        [Input("start"), send("halo"), send("saya setuju dengan ini"), send("I agree")],
    )
    assert turns[1].state.var(LANGUAGE_VAR) is None  # too short to say: left open
    assert turns[2].state.var(LANGUAGE_VAR) == "id"
    assert turns[3].state.language == "id" and switches(turns[3]) == []


def test_someone_who_greets_then_writes_english_is_answered_in_english(
    bundled: FlowLibrary, ctx: Context
) -> None:
    turns = play(bundled, ctx, [Input("start"), send("hello"), send("I would like to talk")])
    assert turns[1].state.language == "id"
    assert turns[2].state.language == "en" and switches(turns[2]) == ["en"]


def test_a_first_message_that_raises_a_concern_still_settles_the_language(
    bundled: FlowLibrary, ctx: Context
) -> None:
    """The host answers a worrying message with the crisis flows (an interrupt carrying
    the words): the family who wrote in English is asked in English."""
    worried = Input("interrupt", flow="safety_check", text="I do not feel safe at home")
    turns = play(bundled, ctx, [Input("start"), worried])
    assert turns[1].state.language == "en"
    assert turns[1].messages()[0].text.startswith("We want to make sure you are all right")


def test_the_english_web_page_starts_in_english(bundled: FlowLibrary, ctx: Context) -> None:
    (turn,) = play(bundled, ctx, [Input("start", text="lang-en")])
    assert turn.state.language == "en"
    assert turn.messages()[0].text.startswith("Hello, welcome to the chat service")


def test_a_switch_asks_the_question_again_in_the_new_language(
    bundled: FlowLibrary, ctx: Context
) -> None:
    consented = SessionState("id", (), (("consent", "yes"),))
    menu = step(bundled, consented, Input("start"), ctx)
    english = step(bundled, menu.state, send("english please"), ctx)
    assert switches(english) == ["en"]
    assert [m.text for m in english.messages()] == [
        "Of course, we will continue in English.",
        "How can we help? Please choose:",
    ]
    assert [o.value for o in english.messages()[-1].options] == [
        o.value for o in menu.messages()[-1].options
    ]
    triage = step(bundled, english.state, Input("choice", choice="talk"), ctx)
    back = step(bundled, triage.state, send("bahasa indonesia"), ctx)
    assert back.state.language == "id" and switches(back) == ["id"]
    assert [m.text for m in back.messages()] == [
        "Baik, kita lanjut dalam Bahasa Indonesia.",
        "Masalah apa yang paling ingin Anda bicarakan? Pilih yang paling dekat.",
    ]


def test_the_language_question_settles_the_language_too(bundled: FlowLibrary, ctx: Context) -> None:
    turns = play(bundled, ctx, [Input("start"), send("bahasa"), Input("choice", choice="en")])
    assert turns[-1].state.language == "en"
    assert turns[-1].state.var(LANGUAGE_VAR) == "en"
    assert Effect("set_language", (("language", "en"),)) in turns[-1].effects()


@pytest.mark.parametrize(
    ("kind", "text", "language"),
    [
        ("text", "what are your opening hours?", "en"),
        ("text", "jam buka kantor?", "id"),
        ("start", "lang-en", "en"),
        ("start", "", "id"),
        ("choice", "agree", "id"),
    ],
)
def test_the_host_knows_the_language_a_first_message_settles(
    bundled: FlowLibrary, kind: str, text: str, language: str
) -> None:
    assert turn_language(bundled, None, kind, text, "id") == language
