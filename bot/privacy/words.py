"""How "my data" and the erasure statement name what is held: in the family's own words.

Nothing internal reaches a family. A case's category, urgency and status, a
booking's mode and status and a score are said with texts admins edit
(bot/core/texts.toml, `privacy.words.*`); an answer is said with the words the
flows showed when it was asked: the question's text (or a shorter name from
`privacy.words.question.VAR`) and the label of the choice made.

What the bot keeps only to run the conversation is left out: the engine's own
variables (`start_param`, `VAR:label`, `VAR:shown`, `VAR:maybe`, `language:chosen`),
flags such as `withdrawn` or `wants_person`, and copies of what another part of the
export already shows (the consent, the case's category and urgency, the booking).
A variable that no question asks (a score such as the SRQ-20 total) is data about
the person when a text names it (`privacy.words.score.VAR`), and is shown once a
question that counts towards it has been answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from bot.booking.timefmt import format_when
from bot.core.texts import BotTexts
from flows.fallbacks import LABEL_SUFFIX, PERSON
from flows.library import FlowLibrary
from flows.model import Ask, Flow, ScoreAction, SetAction, Value
from storage.privacy.repo import SubjectBooking, SubjectCase

__all__ = ["BOOKKEEPING", "Words"]

BOOKKEEPING = frozenset(
    {
        "start_param",
        "withdrawn",
        "wants_person",
        "consent",  # the consents section says it, with its date and version
        "consent_answer",
        "consent_version",
        "case_category",  # the cases section says it, in words
        "person_urgency",
    }
)
"""Variables that say nothing about the person, or that another section already shows."""
_COVERED_PREFIXES = ("booking_",)  # the bookings section shows what was booked
_KEY = "privacy.words"


@dataclass(frozen=True, slots=True)
class _Question:
    order: int
    flow: Flow
    ask: Ask


class Words:
    """The words of one export or statement: one library, one language, the office's values."""

    def __init__(
        self,
        texts: BotTexts,
        library: FlowLibrary,
        language: str,
        values: Mapping[str, str],
        tz: tzinfo,
    ) -> None:
        self.texts = texts
        self.library = library
        self.language = language
        self.values = dict(values)
        self.tz = tz
        self._questions: dict[str, _Question] = {}
        self._labels: dict[str, str] = {}
        self._fed: dict[str, set[str]] = {}
        self._index()

    # --- texts ----------------------------------------------------------------

    def say(self, key: str, **extra: str) -> str:
        """A `privacy.*` text in the family's language, the office's values filled in."""
        return self.texts.get(f"privacy.{key}", self.language, **{**self.values, **extra})

    def _named(self, group: str, code: str, fallback: str | None = None) -> str | None:
        key = f"{_KEY}.{group}.{code}"
        if key in self.texts.entries:
            return self.texts.get(key, self.language, **self.values)
        return fallback

    def case(self, case: SubjectCase) -> tuple[str, str, str]:
        """(category, urgency, status) of a case, as words."""
        category = self._named("category", case.category, self._labels.get(case.category))
        if category is None:
            category = self.say("words.category.lainnya")
        urgency = self._named("urgency", case.urgency) or self.say("words.unknown")
        status = self._named("status", case.status) or self.say("words.unknown")
        return category, urgency, status

    def booking(self, booking: SubjectBooking) -> tuple[str, str, str]:
        """(when, how, what became of it) of a booking, as words."""
        when = format_when(booking.starts_at, self.tz, self.language)
        key = f"booking.mode.{booking.mode}"
        known = key in self.texts.entries
        mode = self.texts.get(key, self.language) if known else self.say("words.unknown")
        status = self._named("booking", booking.status) or self.say("words.unknown")
        return when, mode, status

    def kind(self, kind: str) -> str:
        """What a person sent that is not text (a photo, a voice note), as a word."""
        return self._named("kind", kind) or self.say("words.kind.unsupported")

    def pressed(self, value: str, variables: Sequence[tuple[str, Value]]) -> str | None:
        """The label of a button the person pressed, if it can still be told; else None."""
        for name, held in variables:
            if name.endswith(LABEL_SUFFIX) and isinstance(held, str):
                if dict(variables).get(name[: -len(LABEL_SUFFIX)]) == value:
                    return held
        return self._labels.get(value)

    # --- answers --------------------------------------------------------------

    def answers(self, variables: Sequence[tuple[str, Value]]) -> list[str]:
        """One line for every variable about the person: what was asked, and the answer."""
        held = dict(variables)
        found: list[tuple[tuple[int, str], str]] = []
        for name, value in variables:
            if _bookkeeping(name) or _empty(value):
                continue
            question = self._questions.get(name)
            if question is not None:
                label = self._named("question", name) or _first_line(
                    question.ask.text.get(self.language, self.library.languages[0])
                )
                answer = self._answer(name, value, held)
                found.append(
                    (
                        (question.order, name),
                        self.say("words.answer", question=label, answer=answer),
                    )
                )
                continue
            key = f"{_KEY}.score.{name}"
            if key not in self.texts.entries:
                continue  # counted or set by the flows for themselves: not about the person
            if value in (0, False) and not (self._fed.get(name, set()) & held.keys()):
                continue  # set at the start of a questionnaire never answered
            shown = "yes" if value is True else "no" if value is False else str(value)
            line = self.texts.get(key, self.language, **{**self.values, "value": shown})
            found.append(((len(self._questions) + 1, name), line))
        return [line for _, line in sorted(found)]

    def _answer(self, name: str, value: Value, held: Mapping[str, Value]) -> str:
        if isinstance(value, bool):
            value = "yes" if value else "no"
        if isinstance(value, int):
            return str(value)
        question = self._questions[name]
        label = self.library.answer_label(question.flow, name, value)
        if label is not None:
            return label.get(self.language, self.library.languages[0])
        shown = held.get(name + LABEL_SUFFIX)
        if isinstance(shown, str) and shown:
            return shown
        if question.ask.type == "yesno" or value in ("yes", "no"):
            text = self.library.globals.text(value)
            if text is not None:
                return text.get(self.language, self.library.languages[0])
        return value  # their own words, for a question answered by typing

    # --- the index of the flows ------------------------------------------------

    def _index(self) -> None:
        """Which question asks each variable, every choice's label, and what feeds a score."""
        entry = self.library.globals.entry.split(".")[0]
        ordered = sorted(self.library.flow_ids, key=lambda f: (f != entry, f))
        order = 0
        for flow_id in ordered:
            flow = self.library.flow(flow_id)
            scored: dict[str, set[str]] = {}
            for node in flow.nodes:
                for action in node.actions:
                    if isinstance(action, ScoreAction | SetAction):
                        scored.setdefault(node.id, set()).add(action.var)
            for node in flow.nodes:
                ask = node.ask
                if ask is None:
                    continue
                order += 1
                self._questions.setdefault(ask.var, _Question(order, flow, ask))
                targets = {c.goto for c in ask.choices} | {t for _, t in node.exits}
                targets.add(node.next)
                for target in targets:
                    for var in scored.get(target or "", ()):
                        self._fed.setdefault(var, set()).add(ask.var)
                for choice in ask.choices:
                    label = choice.label.get(self.language, self.library.languages[0])
                    self._labels.setdefault(choice.value, label)
        for value in ("yes", "no", "person"):
            text = self.library.globals.text(value)
            if text is not None:
                key = PERSON if value == "person" else value
                self._labels.setdefault(key, text.get(self.language, self.library.languages[0]))


def _bookkeeping(name: str) -> bool:
    return ":" in name or name in BOOKKEEPING or name.startswith(_COVERED_PREFIXES)


def _empty(value: Value) -> bool:
    return isinstance(value, str) and not value.strip()


def _first_line(text: str) -> str:
    """A question's text as a label: its first line, without the bot's *emphasis*."""
    line = next((part.strip() for part in text.strip().splitlines() if part.strip()), text)
    return line.replace("*", "")
