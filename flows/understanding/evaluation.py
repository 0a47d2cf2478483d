"""Measuring the matcher on typed answers: `question<TAB>expected<TAB>style<TAB>text` lines.

Pure: the caller reads the file and passes the clock and the host's options (the
booking modes a question offers at run time), so the figures can be tested.
A "Maksud Anda ...?" (a close call) counts as neither right nor wrong. An answer
expected as `faq:TOPIC` is a question of the family's own (flows/library/faq.toml):
it is read as the engine reads it, a choice or an FAQ topic (flows.understanding.layers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from flows.days import dated, way_back
from flows.exchange import Calendar, Option, OptionSource, no_options
from flows.library import FlowLibrary
from flows.model import Choice, Text, Value
from flows.understanding.dayscore import Outcome, outcome
from flows.understanding.layers import read_message
from flows.understanding.matcher import Reading, read_answer

NO_CHOICE = "-"
"""The expected value of an answer that fits no choice."""
FAQ_PREFIX = "faq:"
"""The expected value of a question of the family's own is `faq:` and the FAQ topic."""
ENGLISH_STYLES = frozenset({"english", "en"})
"""Styles whose answers are measured in an English conversation (host labels in English)."""


class AnswerFileError(ValueError):
    """A line of a typed-answer file that cannot be used; the message names the line."""


@dataclass(frozen=True, slots=True)
class Answer:
    line: int
    question: str  # FLOW.NODE
    expected: str  # a choice value, or NO_CHOICE
    style: str
    text: str

    @property
    def kind(self) -> str:
        """What is expected: a `choice`, an `faq` topic, or `none`."""
        if self.expected == NO_CHOICE:
            return "none"
        return "faq" if self.expected.startswith(FAQ_PREFIX) else "choice"


@dataclass(frozen=True, slots=True)
class Result:
    answer: Answer
    reading: Reading
    topic: str = ""  # the FAQ topic answered when no choice was read
    outcome: Outcome | None = None  # at a question of days or times (flows/days.py)

    @property
    def got(self) -> str:
        if self.outcome is not None:
            return self.outcome.got
        if self.topic:
            return FAQ_PREFIX + self.topic
        return self.reading.choice.value if self.reading.choice else NO_CHOICE

    @property
    def taken(self) -> bool:
        """A choice was picked or an FAQ topic answered (a close call is neither)."""
        return self.reading.kind == "match" or bool(self.topic)

    @property
    def right(self) -> bool:
        if self.outcome is not None:
            return self.outcome.right(self.answer.expected)
        if self.answer.expected == NO_CHOICE:
            return not self.taken and self.reading.kind == "none"
        return self.taken and self.got == self.answer.expected

    @property
    def wrong(self) -> bool:
        if self.outcome is not None:
            return self.outcome.wrong(self.answer.expected)
        return self.taken and self.got != self.answer.expected

    @property
    def asked_back(self) -> bool:
        if self.outcome is not None:
            return self.outcome.got == "?"
        return self.reading.kind == "close"


@dataclass(frozen=True, slots=True)
class Host:
    """The host's side of the questions measured: its options, the answers given before
    (that the options depend on) and its calendar per language (for days and times)."""

    options: OptionSource = no_options
    variables: Mapping[str, Value] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)


@dataclass(slots=True)
class Tally:
    lines: int = 0
    right: int = 0
    wrong: int = 0
    asked_back: int = 0

    def add(self, result: Result) -> None:
        self.lines += 1
        self.right += result.right
        self.wrong += result.wrong
        self.asked_back += result.asked_back


@dataclass(slots=True)
class Figures:
    results: list[Result] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why a line was left out

    def tally(self, key: Callable[[Result], str], *, fits: bool | None = True) -> dict[str, Tally]:
        """Tallies by `key` over the answers that fit a choice (`fits`), those that fit
        none (`-`), or all (None); questions of the family's own (`faq:`) are tallied
        with `tally_kind`."""
        out: dict[str, Tally] = {}
        for result in self.results:
            if fits is not None and result.answer.kind != ("choice" if fits else "none"):
                continue
            out.setdefault(key(result), Tally()).add(result)
        return dict(sorted(out.items()))

    def tally_kind(self, key: Callable[[Result], str], kind: str) -> dict[str, Tally]:
        """Tallies by `key` over the answers expecting `kind` (choice, faq, none)."""
        out: dict[str, Tally] = {}
        for result in self.results:
            if result.answer.kind == kind:
                out.setdefault(key(result), Tally()).add(result)
        return dict(sorted(out.items()))

    def misses(self) -> list[Result]:
        """Wrong picks first (most confident first), then answers left unmatched."""
        wrong = sorted((r for r in self.results if r.wrong), key=lambda r: -r.reading.confidence)
        unmatched = [
            r
            for r in self.results
            if not r.right and not r.wrong and r.answer.expected != NO_CHOICE
        ]
        return wrong + unmatched


def parse_answers(lines: Iterable[str], problems: list[str] | None = None) -> list[Answer]:
    """The answers of a file's lines (blank lines and `#` comments skipped). A malformed
    line raises AnswerFileError, or with `problems` is noted there and left out."""
    out: list[Answer] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4 or not all(p.strip() for p in parts[:3]):
            why = f"line {number}: needs question, expected, style and text"
            if problems is None:
                raise AnswerFileError(why)
            problems.append(why)
            continue
        question, expected, style, text = (p.strip() for p in parts)
        out.append(Answer(number, question, expected, style, text))
    return out


def question_choices(
    library: FlowLibrary,
    question: str,
    options: OptionSource = no_options,
    language: str = "id",
    variables: Mapping[str, Value] | None = None,
) -> tuple[tuple[Choice, ...], bool]:
    """The choices of `FLOW.NODE` as the engine reads an answer there (the host's
    options first, labelled in `language`), and whether it is a yes/no question."""
    flow_id, _, node_id = question.partition(".")
    node = library.flow(flow_id).node(node_id) if library.has_flow(flow_id) else None
    if node is None or node.ask is None or node.ask.type == "text":
        raise AnswerFileError(f"'{question[:60]}' is not a question with choices")
    if node.ask.type == "yesno":
        yes = library.globals.text("yes") or Text((("en", "Yes"),))
        no = library.globals.text("no") or Text((("en", "No"),))
        return (Choice("yes", yes), Choice("no", no)), True
    dynamic: tuple[Choice, ...] = ()
    if node.ask.choices_from is not None:
        offered = options(node.ask.choices_from, variables or {}, language)
        dynamic = tuple(node.ask.choice_for(o.value, Text(((language, o.label),))) for o in offered)
    return dynamic + node.ask.choices, False


def language_of(library: FlowLibrary, style: str) -> str:
    """The conversation language an answer of `style` is typed in."""
    if style in ENGLISH_STYLES and "en" in library.languages:
        return "en"
    return library.languages[0]


def evaluate(
    library: FlowLibrary,
    answers: Iterable[Answer],
    clock: Callable[[], float],
    *,
    strict: bool = True,
    options: OptionSource = no_options,
    faq: bool | None = None,
    host: Host | None = None,
) -> Figures:
    """Runs every answer through the matcher the engine uses, timing each one. An answer
    to an unknown question, or expecting a choice the question does not have (a host
    option `options` does not offer, such as a booking day), raises AnswerFileError, or
    unless `strict` is left out and noted in `Figures.skipped`. An answer no choice
    takes is read as an FAQ question when `faq`, by default when some answer expects
    `faq:TOPIC` (files written before the FAQ measure the choices alone, as before)."""
    answers = list(answers)
    if faq is None:
        faq = any(a.kind == "faq" for a in answers)
    figures = Figures()
    words = library.globals.words
    host = host or Host(options)
    for answer in answers:
        try:
            language = language_of(library, answer.style)
            choices, yes_no = question_choices(
                library, answer.question, host.options, language, host.variables
            )
            offered = _offered(library, answer.question, host, language)
            if dated(offered):
                measured = functools.partial(
                    outcome,
                    offered=offered,
                    static=choices[len(offered) :],
                    calendar=host.calendars.get(language),
                    words=words,
                    language=language,
                    back=_way_back(library, answer.question),
                )
                measured("x")  # the question's index is built once per library
                began = clock()
                got, reading = measured(answer.text)
                figures.seconds.append(clock() - began)
                figures.results.append(Result(answer, reading, outcome=got))
                continue
            values = {c.value for c in choices}
            values |= {FAQ_PREFIX + t.id for t in library.faq.topics}
            if answer.expected != NO_CHOICE and answer.expected not in values:
                raise AnswerFileError(
                    f"line {answer.line}: '{answer.expected}' is not a choice of {answer.question}"
                )
        except AnswerFileError as exc:
            if strict:
                raise
            figures.skipped.append(str(exc))
            continue
        read_answer("x", choices, words)  # the question's index is built once per library
        began = clock()
        reading = read_answer(answer.text, choices, words, yes_no=yes_no)
        figures.seconds.append(clock() - began)
        topic = None
        if faq:  # as the engine reads it: the choice, or the FAQ topic (layers.py)
            both = read_message(answer.text, choices, library.faq, words, yes_no=yes_no)
            reading, topic = both.reading, both.faq.topic
        figures.results.append(Result(answer, reading, topic.id if topic is not None else ""))
    return figures


def _way_back(library: FlowLibrary, question: str) -> Choice | None:
    flow = library.flow(question.partition(".")[0])
    node = flow.node(question.partition(".")[2])
    return way_back(node, flow.node) if node is not None else None


def _offered(library: FlowLibrary, question: str, host: Host, language: str) -> tuple[Option, ...]:
    """The host's options at `FLOW.NODE` (none for a question without `choices_from`)."""
    flow_id, _, node_id = question.partition(".")
    node = library.flow(flow_id).node(node_id)
    if node is None or node.ask is None or node.ask.choices_from is None:
        return ()
    return tuple(host.options(node.ask.choices_from, host.variables, language))
