"""Host options (`choices_from`), context routers and flow entries: the engine's seams
for things only the host knows, such as which consultation times are still free."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from flows.engine import step
from flows.errors import FlowSetError
from flows.exchange import ChannelCaps, Context, Input, Option, static_options
from flows.library import FlowLibrary
from flows.loader import load_library
from flows.mermaid import flowchart
from flows.model import Value
from flows.state import SessionState
from flows.transcripts import DEFAULT_CONTEXT, render_output, run_transcripts

NOW = datetime.fromisoformat("2026-12-04T09:00:00+09:00")

GLOBALS = """
spec_version = 1
entry = "pick"
stuck = "pick.stuck"
[texts]
reask = { id = "Maaf?", en = "Sorry?" }
invalid_number = { id = "Angka?", en = "Number?" }
invalid_date = { id = "Tanggal?", en = "Date?" }
invalid_phone = { id = "Nomor?", en = "Phone?" }
step_limit = { id = "Gangguan.", en = "Trouble." }
yes = { id = "Ya", en = "Yes" }
no = { id = "Tidak", en = "No" }
"""

PICK = """
spec_version = 1
id = "pick"
name = { id = "Pilih", en = "Pick" }
start = "day"
entries = ["taken", "mine"]

[[nodes]]
id = "day"
next = "time"
  [nodes.ask]
  type = "choice"
  var = "day"
  choices_from = "days"
  when_empty = "none"
  text = { id = "Hari apa?", en = "Which day?" }
    [[nodes.ask.choices]]
    value = "later"
    label = { id = "Nanti saja", en = "Later" }
    goto = "bye"

[[nodes]]
id = "time"
next = "hold"
  [nodes.ask]
  type = "choice"
  var = "slot"
  choices_from = "times"
  when_empty = "full"
  text = { id = "Jam berapa?", en = "What time?" }

[[nodes]]
id = "hold"
say = [ { id = "Anda memilih {answers.slot}.", en = "You chose {answers.slot}." } ]
effects = [ { name = "end" } ]

[[nodes]]
id = "full"
say = [ { id = "Hari itu penuh.", en = "That day is full." } ]
next = "day"

[[nodes]]
id = "none"
say = [ { id = "Belum ada waktu kosong.", en = "No free time yet." } ]
end = true

[[nodes]]
id = "taken"
say = [ { id = "Waktu itu baru saja diambil.", en = "That time was just taken." } ]
next = "time"

[[nodes]]
id = "bye"
end = true

[[nodes]]
id = "mine"
exits = { has = "show", none = "bye" }
  [nodes.router]
  context = "booking_code"
  default = "none"
    [[nodes.router.cases]]
    test = "has_text"
    category = "has"

[[nodes]]
id = "show"
say = [ { id = "Kode {booking_code}.", en = "Code {booking_code}." } ]
end = true

[[nodes]]
id = "stuck"
say = [ { id = "Bingung.", en = "Confused." } ]
end = true
"""

DAYS = (Option("2026-12-07", "Senin, 7 Desember"), Option("2026-12-08", "Selasa, 8 Desember"))
TIMES = {
    "2026-12-07": (Option("2026-12-07T01:00Z", "Senin, 7 Desember, pukul 10.00 WIT"),),
    "2026-12-08": (
        Option("2026-12-08T00:00Z", "Selasa, 8 Desember, pukul 09.00 WIT"),
        Option("2026-12-08T02:00Z", "Selasa, 8 Desember, pukul 11.00 WIT"),
    ),
}


def write_library(folder: Path, flow: str = PICK) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "globals.toml").write_text(GLOBALS, "utf-8")
    (folder / "pick.toml").write_text(flow, "utf-8")
    return folder


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> FlowLibrary:
    folder = write_library(tmp_path_factory.mktemp("dynamic"))
    return load_library(folder, option_sets=("days", "times"))


class Host:
    """A host whose free times depend on the day chosen earlier in the same turn."""

    def __init__(self, days: Sequence[Option] = DAYS) -> None:
        self.days = tuple(days)
        self.asked: list[tuple[str, dict[str, Value]]] = []

    def __call__(self, name: str, variables: Mapping[str, Value], language: str) -> list[Option]:
        self.asked.append((name, dict(variables)))
        if name == "days":
            return list(self.days)
        return list(TIMES.get(str(variables.get("day")), ()))


def context(host: Host | None = None, **values: str) -> Context:
    return Context(
        NOW, ChannelCaps(), {**DEFAULT_CONTEXT, **values}, "id", host if host else Host()
    )


def say(lib: FlowLibrary, state: SessionState | None, inp: Input, ctx: Context) -> list[str]:
    return [render_output(o) for o in step(lib, state, inp, ctx).outputs]


def start(lib: FlowLibrary, ctx: Context) -> SessionState:
    return step(lib, None, Input("start"), ctx).state


def test_host_options_come_first_then_the_flows_own_choices(lib: FlowLibrary) -> None:
    turn = step(lib, None, Input("start"), context())
    assert [render_output(o) for o in turn.outputs] == [
        "Hari apa?\n[2026-12-07] Senin, 7 Desember\n[2026-12-08] Selasa, 8 Desember\n"
        "[later] Nanti saja"
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Input("text", text="2"), "[2026-12-08T00:00Z] Selasa, 8 Desember, pukul 09.00 WIT"),
        (Input("text", text="selasa, 8 desember"), "[2026-12-08T02:00Z] Selasa, 8 Desember"),
        (Input("choice", choice="2026-12-07"), "[2026-12-07T01:00Z] Senin, 7 Desember"),
    ],
)
def test_a_host_option_is_chosen_by_number_label_or_button(
    lib: FlowLibrary, answer: Input, expected: str
) -> None:
    ctx = context()
    said = say(lib, start(lib, ctx), answer, ctx)
    assert len(said) == 1 and expected in said[0]


def test_the_options_of_a_later_question_see_the_answer_given_in_the_same_turn(
    lib: FlowLibrary,
) -> None:
    host = Host()
    ctx = context(host)
    step(lib, start(lib, ctx), Input("text", text="1"), ctx)
    name, variables = host.asked[-1]
    assert (name, variables["day"]) == ("times", "2026-12-07")


def test_a_chosen_host_option_shows_its_label_to_people_and_its_value_to_the_host(
    lib: FlowLibrary,
) -> None:
    ctx = context()
    state = step(lib, start(lib, ctx), Input("text", text="2"), ctx).state
    turn = step(lib, state, Input("text", text="2"), ctx)
    assert [render_output(o) for o in turn.outputs] == [
        "Anda memilih Selasa, 8 Desember, pukul 11.00 WIT.",
        "effect end",
    ]
    assert turn.state.var("slot") == "2026-12-08T02:00Z"


def test_a_static_choice_beside_host_options_still_works(lib: FlowLibrary) -> None:
    ctx = context()
    assert say(lib, start(lib, ctx), Input("text", text="3"), ctx) == ["effect end"]
    assert say(lib, start(lib, ctx), Input("text", text="nanti saja"), ctx) == ["effect end"]


def test_no_options_at_all_goes_to_when_empty_without_asking(lib: FlowLibrary) -> None:
    said = say(lib, None, Input("start"), context(Host(days=())))
    assert said == ["Belum ada waktu kosong.", "effect end"]


def test_an_answer_means_the_option_as_it_was_shown_whatever_the_host_offers_now(
    lib: FlowLibrary,
) -> None:
    """The host then checks what the choice is worth (a time just taken: "taken")."""
    ctx = context()
    state = step(lib, start(lib, ctx), Input("text", text="1"), ctx).state
    assert state.var("slot:shown") is not None
    gone = Context(NOW, ChannelCaps(), dict(DEFAULT_CONTEXT), "id", static_options({}))
    turn = step(lib, state, Input("text", text="1"), gone)
    assert [render_output(o) for o in turn.outputs] == [
        "Anda memilih Senin, 7 Desember, pukul 10.00 WIT.",
        "effect end",
    ]
    assert turn.state.var("slot:shown") is None, "forgotten once answered"


def test_with_nothing_shown_kept_and_nothing_offered_an_answer_goes_to_when_empty(
    lib: FlowLibrary,
) -> None:
    ctx = context()
    state = step(lib, start(lib, ctx), Input("text", text="1"), ctx).state
    older = SessionState(
        state.language, state.stack, tuple(v for v in state.vars if v[0] != "slot:shown")
    )
    gone = Context(NOW, ChannelCaps(), dict(DEFAULT_CONTEXT), "id", static_options({}))
    turn = step(lib, older, Input("text", text="1"), gone)
    assert [render_output(o) for o in turn.outputs] == [
        "Hari itu penuh.",
        "Belum ada waktu kosong.",
        "effect end",
    ]
    assert turn.state.misses == 0


def test_a_button_value_that_was_never_shown_is_asked_again(
    lib: FlowLibrary,
) -> None:
    ctx = context()
    state = step(lib, start(lib, ctx), Input("text", text="2"), ctx).state  # Tuesday
    assert say(lib, state, Input("choice", choice="2026-12-07T01:00Z"), ctx) == [
        "Maaf?",
        "Jam berapa?\n[2026-12-08T00:00Z] Selasa, 8 Desember, pukul 09.00 WIT\n"
        "[2026-12-08T02:00Z] Selasa, 8 Desember, pukul 11.00 WIT",
    ]


def test_an_interrupt_may_begin_at_a_declared_entry_of_a_running_flow(lib: FlowLibrary) -> None:
    ctx = context()
    state = step(lib, start(lib, ctx), Input("text", text="2"), ctx).state
    turn = step(lib, state, Input("interrupt", flow="pick", node="taken"), ctx)
    assert [render_output(o) for o in turn.outputs][0] == "Waktu itu baru saja diambil."
    assert [f.node for f in turn.state.stack] == ["time"], "restarted there, not stacked"


def test_an_interrupt_at_a_node_that_is_not_an_entry_is_an_error_not_a_jump(
    lib: FlowLibrary,
) -> None:
    ctx = context()
    state = start(lib, ctx)
    turn = step(lib, state, Input("interrupt", flow="pick", node="hold"), ctx)
    assert [render_output(o) for o in turn.outputs] == [
        "error unknown_target pick.toml: interrupt at 'hold': not one of the flow's entries"
    ]
    assert turn.state == state


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"booking_code": "K7F3Q2"}, ["Kode K7F3Q2.", "effect end"]),
        ({}, ["effect end"]),
    ],
)
def test_a_router_may_test_a_context_key_the_host_passes(
    lib: FlowLibrary, values: dict[str, str], expected: list[str]
) -> None:
    said = say(lib, None, Input("interrupt", flow="pick", node="mine"), context(**values))
    assert said == expected


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ('choices_from = "days"', 'choices_from = "dayz"'),
            "pick.toml: node 'day' -> ask -> choices_from: "
            "unknown option set 'dayz' (known: days, times)",
        ),
        (
            ('  when_empty = "full"\n', ""),
            "pick.toml: node 'time' -> ask: "
            "needs 'when_empty': where to go when the host has no options",
        ),
        (
            ('id = "time"\nnext = "hold"', 'id = "time"'),
            "pick.toml: node 'time' -> ask: no way on after a host option: add a next or a router",
        ),
        (
            ('context = "booking_code"', 'context = "booking_kode"'),
            "pick.toml: node 'mine' -> router: unknown context key 'booking_kode'",
        ),
        (
            ('entries = ["taken", "mine"]', 'entries = ["takn", "mine"]'),
            "pick.toml: entries[0]: unknown node 'takn'",
        ),
        (
            ('when_empty = "none"', 'when_empty = "nowhere"'),
            "pick.toml: node 'day' -> ask -> when_empty: unknown target 'nowhere'",
        ),
        (
            ('  type = "choice"\n  var = "slot"', '  type = "text"\n  var = "slot"'),
            "pick.toml: node 'time' -> ask -> choices_from: "
            "belongs only to a choice question, not text",
        ),
    ],
)
def test_the_checker_refuses_host_options_it_cannot_vouch_for(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    assert change[0] in PICK
    folder = write_library(tmp_path / "lib", PICK.replace(change[0], change[1], 1))
    with pytest.raises(FlowSetError) as raised:
        load_library(folder, option_sets=("days", "times"))
    assert problem in [str(p) for p in raised.value.problems]


def test_an_entry_is_reachable_though_no_node_leads_there(lib: FlowLibrary) -> None:
    assert lib.flow("pick").entries == ("taken", "mine")


def test_transcripts_supply_host_options_per_case_and_per_turn(tmp_path: Path) -> None:
    folder = write_library(tmp_path / "lib")
    (folder / "transcripts").mkdir()
    (folder / "transcripts" / "pick.toml").write_text(
        """
[defaults]
options = { days = [["2026-12-07", "Senin, 7 Desember"]] }

[[cases]]
name = "a day, then a time offered only on that turn"

[[cases.turns]]
start = ""
expect = ["Hari apa?\\n[2026-12-07] Senin, 7 Desember\\n[later] Nanti saja"]

[[cases.turns]]
send = "1"
options = { times = [["2026-12-07T01:00Z", "pukul 10.00 WIT"]] }
expect = ["Jam berapa?\\n[2026-12-07T01:00Z] pukul 10.00 WIT"]
expect_vars = { day = "2026-12-07" }

[[cases.turns]]
send = "1"
expect = ["Anda memilih pukul 10.00 WIT.", "effect end"]

[[cases]]
name = "begins at an entry"

[[cases.turns]]
interrupt = "pick.taken"
expect = ["Waktu itu baru saja diambil.", "Hari itu penuh.", \
"Hari apa?\\n[2026-12-07] Senin, 7 Desember\\n[later] Nanti saja"]
""",
        "utf-8",
    )
    library = load_library(folder, option_sets=("days", "times"))
    report = run_transcripts(library, folder / "transcripts")
    assert [f for r in report.failed for f in r.failures] == []
    assert ("pick", "taken") in report.visited


def test_the_diagram_shows_entries_and_where_no_options_lead(lib: FlowLibrary) -> None:
    chart = flowchart(lib, "pick")
    assert "  start -.->|entry| n_taken" in chart
    assert "  n_day -->|no options| n_none" in chart
