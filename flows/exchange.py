"""What the flow engine takes and gives: the host's side of `flows.engine.step`.

Inputs (`Input`, `Context` with its `ChannelCaps` and option source) and outputs
(`Turn` holding `Message`s, `Effect`s and `FlowError`s) are frozen values, so a
conversation is a table of them and any host can drive the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from flows.model import Value
from flows.state import SessionState


@dataclass(frozen=True, slots=True)
class ChannelCaps:
    buttons: bool = False  # the channel can show choice buttons
    max_choices: int = 10


OptionSource = Callable[[str, Mapping[str, Value], str], Sequence["Option"]]
"""The host's options for a named set, given the conversation's variables and language.

It must be a pure function of its arguments (the host loads what it needs first),
so that the engine stays pure: `booking_times` depends on `booking_day`, chosen
earlier in the very same turn.
"""


def no_options(name: str, variables: Mapping[str, Value], language: str) -> tuple[Option, ...]:
    """The default source: the host offers nothing (a question goes to its `when_empty`)."""
    return ()


def static_options(sets: Mapping[str, Sequence[Option]]) -> OptionSource:
    """A source that always offers the same options per set (transcripts and tests)."""

    def source(name: str, variables: Mapping[str, Value], language: str) -> Sequence[Option]:
        return tuple(sets.get(name, ()))

    return source


@dataclass(frozen=True, slots=True)
class ClosedDay:
    day: date
    why: Literal["holiday", "closure"]
    name: str = ""  # the holiday's name, in the session language


@dataclass(frozen=True, slots=True)
class Calendar:
    """What the host knows of days, so that a day typed at a question whose options are
    days ("sabtu", "25 desember") is answered honestly when it is not offered: the
    office is closed, the day is full, past, or beyond the last day that can be booked."""

    today: date  # in the office's time zone
    last: date  # the last day that can be booked
    open_weekdays: frozenset[int] = frozenset(range(7))  # 0 Monday .. 6 Sunday
    closed: tuple[ClosedDay, ...] = ()  # holidays and office closures, beyond `last` too

    def closure(self, day: date) -> ClosedDay | None:
        return next((c for c in self.closed if c.day == day), None)


@dataclass(frozen=True, slots=True)
class Context:
    now: datetime  # aware datetime, passed in; the engine never reads a clock
    channel: ChannelCaps
    values: Mapping[str, str]  # office_name, office_address, office_hours, hotlines, ...
    default_language: str = "id"
    options: OptionSource = no_options  # for `ask.choices_from`
    calendar: Calendar | None = None  # for questions whose options are days or times


@dataclass(frozen=True, slots=True)
class Input:
    """One thing that happened: a start, a text, a pressed button, or an interrupt.

    `start` begins the entry flow afresh (vars and language kept; `text` is the
    deep-link parameter, stored as `start_param`). `interrupt` pushes `flow` on top
    of the conversation (at its start, or at `node`, one of the flow's declared
    `entries`); when it ends (`end = true`) the interrupted question is asked
    again. An interrupt's `text` is the family's message that caused it (a crisis
    the host found): it may settle the conversation's language, never an answer.
    Any input to an ended conversation starts the entry flow first and is not taken
    as an answer (a command word still works).
    """

    kind: Literal["start", "text", "choice", "interrupt"]
    text: str = ""
    choice: str = ""
    flow: str = ""
    node: str = ""


@dataclass(frozen=True, slots=True)
class Option:
    value: str  # the button payload / stored answer
    label: str  # rendered in the session language
    # The day (`2026-12-09`) or office-time moment (`2026-12-08T10:00`) the option
    # stands for, so that "rabu", "besok" or "jam 10" can be read (flows/days.py).
    when: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    options: tuple[Option, ...] = ()  # the host renders buttons or a numbered list


@dataclass(frozen=True, slots=True)
class Effect:
    name: str
    params: tuple[tuple[str, str], ...] = ()  # placeholders already rendered

    def param(self, key: str, default: str = "") -> str:
        for name, value in self.params:
            if name == key:
                return value
        return default


@dataclass(frozen=True, slots=True)
class FlowError:
    code: str  # missing_placeholder, step_limit, version_missing, unknown_flow, ...
    where: str  # file, node and path; never a person's text


@dataclass(frozen=True, slots=True)
class Missed:
    """A typed answer a question did not take: which question, and whether it came close
    ("Did you mean A or B?"). Never the words: the host has them, and decides what to keep."""

    flow: str
    node: str
    close: bool = False


Output = Message | Effect | FlowError


@dataclass(frozen=True, slots=True)
class Turn:
    state: SessionState
    outputs: tuple[Output, ...]
    steps: int = 0  # nodes entered in this turn (never more than MAX_STEPS)
    visited: tuple[tuple[str, str], ...] = ()  # (flow id, node id) entered, in order
    missed: tuple[Missed, ...] = ()  # answers not understood (not outputs: nothing to say)

    def messages(self) -> tuple[Message, ...]:
        return tuple(o for o in self.outputs if isinstance(o, Message))

    def effects(self) -> tuple[Effect, ...]:
        return tuple(o for o in self.outputs if isinstance(o, Effect))

    def errors(self) -> tuple[FlowError, ...]:
        return tuple(o for o in self.outputs if isinstance(o, FlowError))
