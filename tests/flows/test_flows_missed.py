"""The engine says which question missed a typed answer, and never the words themselves.

`Turn.missed` is how the host learns that a family's words were not understood
(for the console's list of answers to teach the flows); it is not an output, so
golden transcripts and what the family is sent do not change.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from flows.engine import step
from flows.exchange import Context, Input, Missed, Turn
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.state import SessionState

MENU = ("welcome", "main_menu")


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir(), languages=("id", "en"))


def at_menu(lib: FlowLibrary, ctx: Context) -> SessionState:
    """A family who consented, waiting at the main menu."""
    turn = step(lib, SessionState.fresh("id"), Input("start"), ctx)
    turn = step(lib, turn.state, Input("choice", choice="agree"), ctx)
    assert turn.state.stack[-1].node == "main_menu"
    return turn.state


def play(lib: FlowLibrary, ctx: Context, state: SessionState, inputs: Sequence[Input]) -> Turn:
    turn = Turn(state, ())
    for inp in inputs:
        turn = step(lib, turn.state, inp, ctx)
    return turn


def test_a_typed_answer_nothing_like_a_choice_is_a_miss_at_its_question(
    bundled: FlowLibrary, ctx: Context
) -> None:
    turn = step(bundled, at_menu(bundled, ctx), Input("text", text="zzkq plomb"), ctx)
    assert turn.missed == (Missed(*MENU),)
    assert turn.missed[0].close is False


def test_a_close_call_is_noted_apart_from_a_miss(bundled: FlowLibrary, ctx: Context) -> None:
    turn = step(bundled, at_menu(bundled, ctx), Input("text", text="info darurat"), ctx)
    assert turn.messages()[0].text.startswith("Maksud Anda")
    assert turn.missed == (Missed(*MENU, close=True),)


@pytest.mark.parametrize(
    "inp",
    [
        Input("text", text="1"),
        Input("text", text="informasi layanan"),
        Input("choice", choice="info"),
    ],
    ids=["number", "label", "button"],
)
def test_an_understood_answer_is_no_miss(bundled: FlowLibrary, ctx: Context, inp: Input) -> None:
    assert step(bundled, at_menu(bundled, ctx), inp, ctx).missed == ()


def test_the_miss_names_the_question_and_carries_no_words(
    bundled: FlowLibrary, ctx: Context
) -> None:
    words = "nama saya Budi 081234567890"
    turn = step(bundled, at_menu(bundled, ctx), Input("text", text=words), ctx)
    assert turn.missed
    for missed in turn.missed:
        assert "Budi" not in repr(missed) and "0812" not in repr(missed)
    for effect in turn.effects():
        assert all("Budi" not in value for _, value in effect.params)


def test_misses_are_no_outputs_so_what_the_family_is_sent_is_unchanged(
    bundled: FlowLibrary, ctx: Context
) -> None:
    turn = step(bundled, at_menu(bundled, ctx), Input("text", text="zzkq plomb"), ctx)
    assert not any(isinstance(out, Missed) for out in turn.outputs)
    assert turn.effects() == ()


def test_each_turn_reports_only_its_own_misses(bundled: FlowLibrary, ctx: Context) -> None:
    state = at_menu(bundled, ctx)
    missed = play(bundled, ctx, state, [Input("text", text="zzkq plomb")])
    assert len(missed.missed) == 1
    then = step(bundled, missed.state, Input("text", text="1"), ctx)
    assert then.missed == ()


def test_a_miss_at_the_consent_question_names_it(bundled: FlowLibrary, ctx: Context) -> None:
    first = step(bundled, SessionState.fresh("id"), Input("start"), ctx)
    turn = step(bundled, first.state, Input("text", text="zzkq plomb"), ctx)
    assert turn.missed == (Missed("welcome", "consent_ask"),)
