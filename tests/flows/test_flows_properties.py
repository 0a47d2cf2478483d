"""Properties: whatever a person sends, in any reachable state, the engine answers in bounds."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.engine import MAX_STEPS, step
from flows.exchange import ChannelCaps, Context, Input
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.state import SessionState
from flows.transcripts import DEFAULT_CONTEXT

BASIC = Path(__file__).parent / "fixtures" / "basic"
LIBRARIES = {"basic": load_library(BASIC), "bundled": load_library(bundled_library_dir())}
CTX = Context(
    datetime.fromisoformat("2025-12-12T09:00:00+09:00"), ChannelCaps(), dict(DEFAULT_CONTEXT)
)


def _known_words(lib: FlowLibrary) -> list[str]:
    words = ["ya", "tidak", "1", "2", "3", "12/12/2025", "0812 3456 7890", "30", "dipukul"]
    words += [w for c in lib.globals.commands for w in c.all_words()]
    for flow_id in lib.flow_ids:
        for node in lib.flow(flow_id).nodes:
            if node.ask is not None:
                words += [c.value for c in node.ask.choices]
                words += [label for c in node.ask.choices for label in c.label.all()]
    return words


def _inputs(lib: FlowLibrary) -> st.SearchStrategy[Input]:
    known = st.sampled_from(_known_words(lib))
    return st.one_of(
        st.builds(lambda t: Input("text", text=t), st.text(max_size=40)),
        st.builds(lambda t: Input("text", text=t), known),
        st.builds(lambda c: Input("choice", choice=c), st.one_of(known, st.text(max_size=10))),
        st.builds(lambda f: Input("interrupt", flow=f), st.sampled_from([*lib.flow_ids, "nope"])),
        st.builds(lambda t: Input("start", text=t), st.text(max_size=10)),
    )


def _check(lib: FlowLibrary, language: str, inputs: list[Input]) -> None:
    state: SessionState | None = None if language == "new" else SessionState.fresh(language)
    for inp in inputs:
        turn = step(lib, state, inp, CTX)
        assert turn.steps <= MAX_STEPS
        assert len(turn.state.stack) <= 8
        assert SessionState.from_json(turn.state.to_json()) == turn.state
        state = turn.state


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.sampled_from(["new", "id", "en"]), st.data())
def test_any_inputs_never_raise_or_pass_the_step_cap_on_the_fixtures(
    language: str, data: st.DataObject
) -> None:
    lib = LIBRARIES["basic"]
    _check(lib, language, data.draw(st.lists(_inputs(lib), max_size=12)))


@SETTINGS
@given(st.sampled_from(["new", "id", "en"]), st.data())
def test_any_inputs_never_raise_or_pass_the_step_cap_on_the_bundled_flows(
    language: str, data: st.DataObject
) -> None:
    lib = LIBRARIES["bundled"]
    _check(lib, language, data.draw(st.lists(_inputs(lib), max_size=12)))
