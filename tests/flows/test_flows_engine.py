"""The engine, as tables: answers understood, misses, routing, calls, interrupts, limits."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from flows.engine import MAX_STEPS, step
from flows.errors import StateError
from flows.exchange import Context, Effect, FlowError, Input, Message, Turn
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.state import Frame, SessionState
from flows.transcripts import DEFAULT_CONTEXT

BASIC = Path(__file__).parent / "fixtures" / "basic"


def start() -> Input:
    return Input("start")


def send(text: str) -> Input:
    return Input("text", text=text)


def press(value: str) -> Input:
    return Input("choice", choice=value)


def interrupt(flow: str) -> Input:
    return Input("interrupt", flow=flow)


def play(
    lib: FlowLibrary, ctx: Context, inputs: Sequence[Input], state: SessionState | None = None
) -> Turn:
    """Runs inputs in order and returns the last turn."""
    turn = Turn(state or SessionState.fresh("id"), ())
    for inp in inputs:
        turn = step(lib, turn.state, inp, ctx)
    return turn


def texts(turn: Turn) -> list[str]:
    return [m.text for m in turn.messages()]


def at(turn: Turn) -> tuple[str, str, bool]:
    top = turn.state.stack[-1]
    return top.flow, top.node, top.waiting


# -- choices -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "topic"),
    [
        (press("info"), "info"),
        (press("feedback"), "feedback"),
        (send("1"), "info"),
        (send("2."), "intake"),
        (send("no 3"), "feedback"),
        (send("Nomor 2"), "intake"),
        (send("informasi layanan"), "info"),
        (send("  INFORMASI   LAYANAN!! "), "info"),
        (send("Service information"), "info"),  # the English label in an Indonesian session
        (send("Tell us the problem"), "intake"),
        (send("curhat"), "intake"),  # a synonym
        (send("Infonya?"), "info"),
        (send("feedback"), "feedback"),  # the value typed out
        (send("umpan balik"), "feedback"),
    ],
)
def test_choice_question_accepts_button_number_label_and_synonym(
    basic: FlowLibrary, ctx: Context, answer: Input, topic: str
) -> None:
    turn = play(basic, ctx, [start(), answer])
    assert turn.state.var("topic") == topic
    assert turn.state.misses == 0


@pytest.mark.parametrize(
    "answer", [send("4"), send("0"), send("apa kabar"), send(""), press("nope")]
)
def test_choice_question_reasks_kindly_on_anything_else(
    basic: FlowLibrary, ctx: Context, answer: Input
) -> None:
    turn = play(basic, ctx, [start(), answer])
    assert texts(turn) == ["Maaf, saya belum mengerti jawaban itu.", "Apa yang bisa kami bantu?"]
    assert turn.messages()[1].options[0].value == "info"
    assert at(turn) == ("welcome", "menu", True)
    assert turn.state.misses == 1 and turn.state.var("topic") is None


def test_second_miss_in_a_row_offers_menu_or_a_person(basic: FlowLibrary, ctx: Context) -> None:
    turn = play(basic, ctx, [start(), send("??"), send("??")])
    assert texts(turn) == [
        "Sepertinya kita belum saling mengerti.",
        "Mau kembali ke menu atau bicara dengan petugas?",
    ]
    assert [o.value for o in turn.messages()[1].options] == ["menu", "person"]
    assert at(turn) == ("welcome", "stuck", True)
    assert turn.state.misses == 0


def test_a_good_answer_resets_the_miss_count(basic: FlowLibrary, ctx: Context) -> None:
    turn = play(basic, ctx, [start(), send("??"), send("2"), send("")])
    assert texts(turn) == [
        "Maaf, saya belum mengerti jawaban itu.",
        "Ceritakan singkat apa yang terjadi.",
    ]
    assert turn.state.misses == 1


# -- yes/no and validators in the engine -----------------------------------------------

TO_YESNO = [start(), send("2"), send("cerita"), send("30"), send("1/12/2025"), send("Rina")]


@pytest.mark.parametrize(
    ("answer", "may_call"),
    [
        (press("yes"), "yes"),
        (press("no"), "no"),
        (send("Ya"), "yes"),
        (send("iya, boleh"), "yes"),
        (send("ok"), "yes"),
        (send("1"), "yes"),
        (send("2"), "no"),
        (send("tidak"), "no"),
        (send("gak mau"), "no"),
        (send("seng"), "no"),
        (send("Yes"), "yes"),
        (send("No thanks"), "no"),
    ],
)
def test_yes_no_question_accepts_buttons_numbers_and_words(
    basic: FlowLibrary, ctx: Context, answer: Input, may_call: str
) -> None:
    turn = play(basic, ctx, [*TO_YESNO, answer])
    assert turn.state.var("may_call") == may_call


@pytest.mark.parametrize("answer", ["ya tidak", "mungkin", "", "3"])
def test_yes_no_question_reasks_on_unclear_answers(
    basic: FlowLibrary, ctx: Context, answer: str
) -> None:
    turn = play(basic, ctx, [*TO_YESNO, send(answer)])
    assert texts(turn) == [
        "Maaf, saya belum mengerti jawaban itu.",
        "Bolehkah kami menelepon Anda?",
    ]
    assert [o.label for o in turn.messages()[1].options] == ["Ya", "Tidak"]


@pytest.mark.parametrize(
    ("inputs", "var", "value", "error_text"),
    [
        ([send("30 tahun")], "age", 30, None),
        ([send("tiga puluh")], "age", None, "Mohon tulis dengan angka, misalnya 3."),
        ([send("30"), send("12 Desember 2025")], "when", "2025-12-12", None),
        (
            [send("30"), send("31/02/2025")],
            "when",
            None,
            "Mohon tulis tanggal, misalnya 17-08-2026.",
        ),
        (
            [send("30"), send("1-1-2025"), send("Rina"), send("ya"), send("+62 812 3456 7890")],
            "phone",
            "+6281234567890",
            None,
        ),
        (
            [send("30"), send("1-1-2025"), send("Rina"), send("ya"), send("12345")],
            "phone",
            None,
            "Nomor itu belum benar; contoh: 0812 3456 7890.",
        ),
    ],
)
def test_validated_answers_are_stored_normalised_or_reasked(
    basic: FlowLibrary,
    ctx: Context,
    inputs: list[Input],
    var: str,
    value: object,
    error_text: str | None,
) -> None:
    turn = play(basic, ctx, [start(), send("2"), send("cerita"), *inputs])
    assert turn.state.var(var) == value
    if error_text is not None:
        assert texts(turn)[0] == error_text
        assert turn.state.misses == 1


# -- routers, calls, interrupts --------------------------------------------------------


@pytest.mark.parametrize(
    ("story", "age", "risk", "effects"),
    [
        ("Suami saya memukul", "30", 0, []),
        ("Saya dipukul, tolong", "30", 5, [("open_case", "segera")]),
        ("aku dipukul.", "12", 7, [("open_case", "segera")]),
        ("dimarahi terus", "12", 2, []),
    ],
)
def test_routers_score_and_open_cases_by_the_answers(
    basic: FlowLibrary,
    ctx: Context,
    story: str,
    age: str,
    risk: int,
    effects: list[tuple[str, str]],
) -> None:
    turn_story = play(basic, ctx, [start(), send("2"), send(story)])
    assert [(e.name, e.param("urgency")) for e in turn_story.effects()] == effects
    turn = play(basic, ctx, [send(age)], turn_story.state)
    assert turn.state.var("risk") == risk
    assert turn.state.var("is_child") is (True if int(age) <= 17 else None)


def test_call_runs_the_subflow_and_returns_to_next(basic: FlowLibrary, ctx: Context) -> None:
    turn = play(basic, ctx, [*TO_YESNO])
    assert [f.flow for f in turn.state.stack] == ["welcome", "intake", "contact"]
    assert [f.waiting for f in turn.state.stack] == [False, False, True]
    turn = play(basic, ctx, [send("tidak")], turn.state)
    assert texts(turn) == [
        "Data Anda sudah kami catat (tanggal 2025-12-01).",
        "Terima kasih, Rina. Kami akan menghubungi chat ini.",
    ]
    assert turn.effects() == (Effect("offer_slots"), Effect("end"))
    assert turn.state.ended


def test_interrupt_then_resume_asks_the_pending_question_again(
    basic: FlowLibrary, ctx: Context
) -> None:
    waiting = play(basic, ctx, [start(), send("2")])
    turn = play(basic, ctx, [interrupt("check")], waiting.state)
    assert texts(turn) == ["Apakah Anda aman sekarang?"]
    assert [f.flow for f in turn.state.stack] == ["welcome", "intake", "check"]
    turn = play(basic, ctx, [send("ya")], turn.state)
    assert texts(turn) == ["Syukurlah. Kita lanjutkan.", "Ceritakan singkat apa yang terjadi."]
    assert turn.state.stack == waiting.state.stack


def test_repeated_interrupts_do_not_pile_up(basic: FlowLibrary, ctx: Context) -> None:
    turn = play(basic, ctx, [start(), interrupt("check"), interrupt("check"), interrupt("check")])
    assert [f.flow for f in turn.state.stack] == ["welcome", "check"]


def test_unknown_interrupt_flow_is_an_error_and_changes_nothing(
    basic: FlowLibrary, ctx: Context
) -> None:
    before = play(basic, ctx, [start()])
    turn = play(basic, ctx, [interrupt("krisis")], before.state)
    assert turn.outputs == (FlowError("unknown_flow", "interrupt: flow 'krisis'"),)
    assert turn.state == before.state


@pytest.mark.parametrize(
    ("word", "reply"),
    [
        ("menu", "Apa yang bisa kami bantu?"),
        ("/menu@lk3_bot", "Apa yang bisa kami bantu?"),
        ("Menu Utama.", "Apa yang bisa kami bantu?"),
        ("bantuan", f"Jika dalam bahaya, hubungi:\n{DEFAULT_CONTEXT['hotlines']}"),
        ("HELP", f"Jika dalam bahaya, hubungi:\n{DEFAULT_CONTEXT['hotlines']}"),
        ("bahasa", "Pilih bahasa:"),
        ("language", "Pilih bahasa:"),
        ("berhenti", "Baik, percakapan dihentikan. Ketik apa saja untuk mulai lagi."),
        ("stop!", "Baik, percakapan dihentikan. Ketik apa saja untuk mulai lagi."),
    ],
)
@pytest.mark.parametrize(
    "before",
    [
        [],
        [start()],
        [start(), send("2")],  # a free-text question
        [start(), send("2"), send("cerita"), send("30")],  # a validated question
        [*TO_YESNO],  # inside a called flow
        [start(), interrupt("check")],  # inside an interrupt
        [start(), send("berhenti")],  # ended
    ],
    ids=["new", "menu", "text", "date", "called", "interrupted", "ended"],
)
def test_global_commands_work_from_anywhere(
    basic: FlowLibrary, ctx: Context, before: list[Input], word: str, reply: str
) -> None:
    turn = play(basic, ctx, [*before, send(word)])
    assert texts(turn)[0] == reply
    assert len(turn.state.stack) <= 1


def test_text_to_a_new_conversation_starts_the_entry_flow_without_answering(
    basic: FlowLibrary, ctx: Context
) -> None:
    turn = step(basic, None, send("1"), ctx)
    assert texts(turn) == ["Halo, selamat datang di LK3 Kota Ambon.", "Apa yang bisa kami bantu?"]
    assert turn.state.var("topic") is None
    assert at(turn) == ("welcome", "menu", True)


def test_start_keeps_vars_and_language_and_records_the_deep_link(
    basic: FlowLibrary, ctx: Context
) -> None:
    state = SessionState("en", (), (("name", "Rina"),))
    turn = step(basic, state, Input("start", text="from-poster"), ctx)
    assert texts(turn)[0] == "Hello, welcome to LK3 Kota Ambon."
    assert turn.state.var("name") == "Rina" and turn.state.var("start_param") == "from-poster"


def test_set_language_switches_at_once(basic: FlowLibrary, ctx: Context) -> None:
    turn = play(basic, ctx, [start(), send("bahasa"), send("English")])
    assert turn.effects() == (Effect("set_language", (("language", "en"),)),)
    assert texts(turn) == ["Fine, we will go on in English.", "How can we help?"]
    assert turn.state.language == "en"


# -- author mistakes at run time -----------------------------------------------------


def test_missing_placeholder_is_an_error_output_and_the_conversation_goes_on(
    basic: FlowLibrary, ctx: Context
) -> None:
    bare = dataclasses.replace(ctx, values={})
    turn = step(basic, None, start(), bare)
    assert turn.outputs[:2] == (
        FlowError(
            "missing_placeholder", "welcome.toml: node 'hello' -> say[0]: placeholder 'office_name'"
        ),
        Message("Halo, selamat datang di ."),
    )
    assert at(turn) == ("welcome", "menu", True)


def test_a_loop_stops_at_the_step_cap_and_offers_the_stuck_question(
    basic: FlowLibrary, ctx: Context
) -> None:
    turn = step(basic, None, interrupt("loop"), ctx)
    assert turn.steps == MAX_STEPS
    assert turn.state.var("laps") == MAX_STEPS // 2
    assert turn.errors() == (
        FlowError("step_limit", f"loop.toml: node 'ping': more than {MAX_STEPS} steps in one turn"),
    )
    assert texts(turn) == [
        "Maaf, ada gangguan di sistem kami.",
        "Mau kembali ke menu atau bicara dengan petugas?",
    ]
    assert at(turn) == ("welcome", "stuck", True)


# -- versions and state ------------------------------------------------------------------


def _edited_library(tmp_path: Path) -> FlowLibrary:
    for path in BASIC.glob("*.toml"):
        shutil.copy(path, tmp_path)
    feedback = tmp_path / "feedback.toml"
    feedback.write_text(
        feedback.read_text("utf-8").replace(
            "Sampai jumpa, jaga diri", "Sampai bertemu lagi, jaga diri"
        ),
        "utf-8",
    )
    return load_library(tmp_path)


def test_a_conversation_finishes_on_the_version_it_started_on(
    basic: FlowLibrary, ctx: Context, tmp_path: Path
) -> None:
    started = step(basic, None, interrupt("feedback"), ctx)
    old_version = basic.current_version("feedback")
    assert started.state.stack[-1].version == old_version
    newer = _edited_library(tmp_path)
    assert newer.current_version("feedback") != old_version
    with_old = newer.with_archived(basic.sources().values())
    turn = step(with_old, started.state, send("1"), ctx)
    assert texts(turn) == ["Anda memilih: Sangat membantu. Sampai jumpa, jaga diri baik-baik."]
    fresh = step(with_old, None, interrupt("feedback"), ctx)
    assert fresh.state.stack[-1].version == newer.current_version("feedback")


def test_a_missing_version_falls_back_to_the_current_one_with_an_error(
    basic: FlowLibrary, ctx: Context, tmp_path: Path
) -> None:
    started = step(basic, None, interrupt("feedback"), ctx)
    newer = _edited_library(tmp_path)
    turn = step(newer, started.state, send("1"), ctx)
    old, new = basic.current_version("feedback"), newer.current_version("feedback")
    assert turn.errors() == (
        FlowError("version_missing", f"feedback.toml: version '{old}' not held; using '{new}'"),
    )
    assert texts(turn) == [
        "Anda memilih: Sangat membantu. Sampai bertemu lagi, jaga diri baik-baik."
    ]


def test_version_is_a_hash_of_the_source(basic: FlowLibrary) -> None:
    import hashlib

    source = (BASIC / "feedback.toml").read_text("utf-8")
    assert basic.current_version("feedback") == hashlib.sha256(source.encode()).hexdigest()[:12]
    assert basic.sources()[("feedback", basic.current_version("feedback"))] == source


def test_state_round_trips_through_json(basic: FlowLibrary, ctx: Context) -> None:
    turn = play(basic, ctx, [*TO_YESNO, interrupt("check")])
    data = turn.state.to_json()
    assert SessionState.from_json(data) == turn.state
    assert SessionState.from_json(data).to_json() == data
    assert len(data) < 400


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "session state is not valid JSON"),
        ("[]", "session state must be a JSON object"),
        ('{"v":2}', "session state format must be 1"),
        (
            '{"v":1,"lang":"","stack":[],"vars":[],"misses":0}',
            "session state field 'lang' must be a non-empty string",
        ),
        (
            '{"v":1,"lang":"id","stack":[["a","b","c"]],"vars":[],"misses":0}',
            "session state field 'stack[0]' must be [flow, version, node, waiting]",
        ),
        (
            '{"v":1,"lang":"id","stack":[],"vars":[["secret",1.5]],"misses":0}',
            "session state field 'vars[0]' must be [name, text|number|bool]",
        ),
        (
            '{"v":1,"lang":"id","stack":[],"vars":[],"misses":-1}',
            "session state field 'misses' must be a whole number >= 0",
        ),
    ],
)
def test_garbage_state_is_refused_without_echoing_it(data: str, message: str) -> None:
    with pytest.raises(StateError) as raised:
        SessionState.from_json(data)
    assert str(raised.value) == message


def test_state_records_flow_version_and_node(basic: FlowLibrary, ctx: Context) -> None:
    turn = step(basic, None, start(), ctx)
    assert turn.state.stack == (Frame("welcome", basic.current_version("welcome"), "menu", True),)
    assert turn.state.current_flow == "welcome" and not turn.state.ended


# -- typed answers understood by their words -------------------------------------------


@pytest.mark.parametrize(
    ("answer", "topic"),
    [
        (send("saya mau informasinya"), "info"),
        (send("mau cerita masalah saya"), "intake"),
        (send("yang ketiga"), "feedback"),
        (send("infromasi"), "info"),
    ],
)
def test_a_typed_sentence_picks_the_choice_it_means(
    basic: FlowLibrary, ctx: Context, answer: Input, topic: str
) -> None:
    turn = play(basic, ctx, [start(), answer])
    assert turn.state.var("topic") == topic


def test_a_close_call_asks_which_of_the_two_was_meant(basic: FlowLibrary, ctx: Context) -> None:
    turn = play(basic, ctx, [start(), send("info atau curhat")])
    (message,) = turn.messages()
    assert message.text == "Maksud Anda *Informasi layanan* atau *Ceritakan masalah*?"
    assert [o.value for o in message.options] == ["info", "intake"]
    assert at(turn) == ("welcome", "menu", True)
    assert turn.state.misses == 0


@pytest.mark.parametrize(
    ("answer", "topic"),
    [(send("2"), "intake"), (send("yang pertama"), "info"), (press("intake"), "intake"),
     (send("curhat"), "intake"), (send("umpan balik"), "feedback")],
)  # fmt: skip
def test_after_a_close_call_a_number_means_one_of_the_two(
    basic: FlowLibrary, ctx: Context, answer: Input, topic: str
) -> None:
    turn = play(basic, ctx, [start(), send("info atau curhat"), answer])
    assert turn.state.var("topic") == topic
    assert turn.state.var("topic:maybe") is None


# -- never losing progress -----------------------------------------------------------------

TO_DANGER_NOW = [start(), press("talk"), press("kdrt")]


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


def test_two_misses_ask_again_with_a_person_on_offer_and_keep_the_answers(
    bundled: FlowLibrary, ctx: Context
) -> None:
    consented = SessionState("id", (), (("consent", "yes"),))
    turn = play(bundled, ctx, [*TO_DANGER_NOW, send("hmm"), send("??")], consented)
    assert at(turn) == ("triage", "danger_now", True)
    assert [o.value for o in turn.messages()[-1].options] == ["yes", "no", "_person"]
    assert turn.state.var("case_category") == "kdrt"
    turn = step(bundled, turn.state, send("tidak"), ctx)
    assert at(turn) == ("triage", "who", True)
    assert turn.state.var("danger_now") == "no"


@pytest.mark.parametrize("answer", [press("_person"), send("petugas"), send("Talk to a person")])
def test_after_two_misses_a_person_can_be_asked_for(
    bundled: FlowLibrary, ctx: Context, answer: Input
) -> None:
    consented = SessionState("id", (), (("consent", "yes"),))
    turn = play(bundled, ctx, [*TO_DANGER_NOW, send("hmm"), send("??"), answer], consented)
    # ("Talk to a person" is also the first clear message: it settles English first.)
    done = [e.name for e in turn.effects() if e.name != "set_language"]
    assert done == ["open_case", "handoff"]
    assert at(turn) == ("welcome", "person_waiting", True), "held for the person"
    assert turn.state.var("case_category") == "kdrt"


def test_a_person_is_not_offered_before_two_misses(bundled: FlowLibrary, ctx: Context) -> None:
    consented = SessionState("id", (), (("consent", "yes"),))
    turn = play(bundled, ctx, [*TO_DANGER_NOW, send("hmm")], consented)
    assert [o.value for o in turn.messages()[-1].options] == ["yes", "no"]
    turn = step(bundled, turn.state, press("_person"), ctx)
    assert at(turn) == ("triage", "danger_now", True) and turn.state.misses == 2
