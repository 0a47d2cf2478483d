"""Questions answered anywhere (faq.toml): the file, how a message is read, what the engine does.

A family may type a question of their own instead of answering, thank or greet the
bot: the answer is one or two sentences and the question on screen comes again, with
no miss counted. A choice the message means wins (test_flows_layers.py), and where the bot asked for
the family's own words only a short, plain question is taken as an FAQ question.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from flows import cli
from flows.engine import step
from flows.errors import FlowSetError
from flows.exchange import Context, Input, Turn
from flows.faq import FAQ_FILE
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.state import SessionState
from flows.understanding.faq import read_faq

HERE = Path(__file__).parent
BASIC = HERE / "fixtures" / "basic"
TOPICS = (
    "hours address cost confidential counsellors about robot refer person_now "
    "thanks greeting english indonesian"
).split()


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


@pytest.fixture(scope="module")
def basic_faq(tmp_path_factory: pytest.TempPathFactory) -> FlowLibrary:
    """The basic fixture flows with the bundled FAQ beside them."""
    folder = tmp_path_factory.mktemp("basic_faq")
    for path in BASIC.glob("*.toml"):
        shutil.copy(path, folder)
    shutil.copy(bundled_library_dir() / FAQ_FILE, folder)
    return load_library(folder)


def send(text: str) -> Input:
    return Input("text", text=text)


def play(lib: FlowLibrary, ctx: Context, inputs: list[Input]) -> list[Turn]:
    turns: list[Turn] = []
    state: SessionState | None = None
    for inp in inputs:
        turn = step(lib, state, inp, ctx)
        turns.append(turn)
        state = turn.state
    return turns


def texts(turn: Turn) -> list[str]:
    return [m.text for m in turn.messages()]


# -- the file ------------------------------------------------------------------------


def test_the_bundled_faq_answers_every_topic_in_both_languages(bundled: FlowLibrary) -> None:
    assert [t.id for t in bundled.faq.topics] == TOPICS
    for topic in bundled.faq.topics:
        assert {lang for lang, _ in topic.answer.by_language} == {"id", "en"}
        assert {lang for lang, phrases in topic.examples if phrases} == {"id", "en"}
    assert bundled.faq.topic("english") is not None
    assert bundled.faq.topic("english").language == "en"  # type: ignore[union-attr]


def test_a_broken_faq_is_refused_with_every_mistake_by_file_and_topic(tmp_path: Path) -> None:
    broken = HERE / "broken_faq" / FAQ_FILE
    for path in BASIC.glob("*.toml"):
        shutil.copy(path, tmp_path)
    shutil.copy(broken, tmp_path / FAQ_FILE)
    expected = [
        line.removeprefix("# expect: ")
        for line in broken.read_text("utf-8").splitlines()
        if line.startswith("# expect: ")
    ]
    with pytest.raises(FlowSetError) as raised:
        load_library(tmp_path)
    assert sorted(str(p) for p in raised.value.problems) == sorted(expected)
    out = io.StringIO()
    assert cli.check_command(tmp_path, ("id", "en"), out) == 1
    assert "topik address, kunci answer.id: isian 'office_adress' tidak dikenal" in out.getvalue()
    assert "topic address, key answer.id: unknown placeholder 'office_adress'" in out.getvalue()


def test_a_flow_folder_without_an_faq_loads_with_no_topics(basic_faq: FlowLibrary) -> None:
    assert load_library(BASIC).faq.topics == ()
    assert basic_faq.faq.topics


# -- reading a message ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("jam buka kantor?", "hours"),
        ("alamatnya di mana", "address"),
        ("bayar tidak?", "cost"),
        ("ini robot ya?", "robot"),
        ("makasih kak", "thanks"),
        ("halo", "greeting"),
        ("english please", "english"),
        ("pakai bahasa indonesia", "indonesian"),
        ("kantor dong buka jam brapa?", "hours"),  # Ambonese, a typo
        ("konselornya cewek ato cowok?", "counsellors"),
        ("what is LK3 actually?", "about"),  # a whole example and one word more
        ("how can I reach a person now?", "person_now"),
        ("saya guru, bagaimana cara merujuk keluarga murid ke lk3?", "refer"),
        ("apakah cerita saya dirahasiakan?", "confidential"),
        ("danke banyak e", "thanks"),
        # Not questions to the service: an unrelated remark, gibberish, a story.
        ("hp saya rusak", None),
        ("tadi hujan deras di halong", None),
        ("asdfgh", None),
        ("kak", None),
        ("jam berapa saja boleh??", None),  # "any time is fine" answers, asks nothing
        ("suami saya tidak bayar uang sekolah anak, saya bingung sekali", None),
    ],
)
def test_a_message_is_read_as_the_topic_it_asks_about(
    bundled: FlowLibrary, text: str, topic: str | None
) -> None:
    found = read_faq(text, bundled.faq, bundled.globals.words).topic
    assert (found.id if found else None) == topic


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("alamat kantor di mana?", "address"),  # a short, plain question
        ("english please", "english"),  # a language switch
        ("Jl. Sultan Hasanudin no 5, dekat kantor lurah", None),  # an address
        ("terima kasih", None),  # thanks is the family's own answer here
        (
            "suami saya sering pulang mabuk dan memukul, kantor polisi jauh, bagaimana ini?",
            None,  # a story that asks something is still the family's story
        ),
    ],
)
def test_where_the_family_writes_their_own_words_only_a_plain_question_counts(
    bundled: FlowLibrary, text: str, topic: str | None
) -> None:
    found = read_faq(text, bundled.faq, bundled.globals.words, free_text=True).topic
    assert (found.id if found else None) == topic


# -- the engine ----------------------------------------------------------------------


def test_a_question_at_a_choice_question_is_answered_and_the_question_asked_again(
    basic_faq: FlowLibrary, ctx: Context
) -> None:
    first, asked = play(basic_faq, ctx, [Input("start"), send("jam buka kantor?")])
    assert texts(asked)[0].startswith("Kantor kami buka Senin-Jumat 08.00-16.00 WIT.")
    assert asked.messages()[-1] == first.messages()[-1]  # the same question, same options
    assert asked.state.misses == 0 and asked.state.stack == first.state.stack


def test_a_question_does_not_count_as_a_miss(basic_faq: FlowLibrary, ctx: Context) -> None:
    turns = play(basic_faq, ctx, [Input("start"), send("zzz"), send("ini robot ya?")])
    assert turns[1].state.misses == 1
    assert turns[2].state.misses == 1  # neither counted nor forgotten


def test_the_choice_a_message_means_wins(basic_faq: FlowLibrary, ctx: Context) -> None:
    *_, turn = play(basic_faq, ctx, [Input("start"), send("informasi layanan")])
    assert not any(t.startswith("Kantor kami") for t in texts(turn))
    assert turn.state.var("topic") == "info"


def test_a_greeting_as_the_first_message_gets_the_welcome(
    bundled: FlowLibrary, ctx: Context
) -> None:
    (turn,) = play(bundled, ctx, [send("halo")])
    assert texts(turn)[0].startswith("Halo, selamat datang di layanan chat")
    assert not any("belum mengerti" in t for t in texts(turn))


def test_a_question_as_the_first_message_is_answered_before_the_welcome(
    bundled: FlowLibrary, ctx: Context
) -> None:
    (turn,) = play(bundled, ctx, [send("bayar tidak?")])
    assert texts(turn)[0].startswith("Layanan LK3 gratis")
    assert texts(turn)[1].startswith("Halo, selamat datang di layanan chat")


def test_the_familys_story_is_kept_even_when_it_names_a_topic(
    basic_faq: FlowLibrary, ctx: Context
) -> None:
    story = "Suami saya tidak mau bayar uang sekolah anak, kantor bilang harus datang lagi."
    *_, turn = play(basic_faq, ctx, [Input("start"), send("2"), send(story)])
    assert turn.state.var("story") == story


def test_a_plain_question_at_a_free_text_question_is_answered_and_asked_again(
    basic_faq: FlowLibrary, ctx: Context
) -> None:
    *_, at_story, asked = play(
        basic_faq, ctx, [Input("start"), send("2"), send("alamat kantor di mana?")]
    )
    assert texts(asked)[0].startswith("Kantor kami ada di Jl. Contoh No. 1, Ambon.")
    assert texts(asked)[-1] == texts(at_story)[-1]
    assert asked.state.var("story") is None
