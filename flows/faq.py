"""The FAQ: questions families ask at any point, with the bot's short answer (faq.toml).

Why a file of its own: admins keep what families ask ("jam buka kantor?", "ini robot
ya?") and what the bot answers beside the flows, without touching any of them. A
topic holds example phrases per language (read by the same matcher as a choice's
examples, flows.understanding) and an answer of one or two sentences per language;
a topic may switch the conversation's language (`language = "en"`), and one the
welcome already answers (a greeting) may say nothing of its own before it
(`said_by_welcome = true`). Read and checked like a flow: every problem carries the
file and the topic (`faq.toml: topic 'hours' -> answer -> en: missing translation`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flows import placeholders
from flows.errors import Problem
from flows.matching import normalize
from flows.model import Choice, Command, Phrases, Text
from flows.sources import read_toml
from flows.structure import IDENT, Reader

FAQ_FILE = "faq.toml"
FAQ_KEYS = ("spec_version", "topics")
TOPIC_KEYS = ("id", "examples", "answer", "language", "said_by_welcome")


@dataclass(frozen=True, slots=True)
class FaqTopic:
    id: str
    examples: Phrases  # what families type, per language
    answer: Text  # one or two sentences; context placeholders only
    language: str | None = None  # the language this topic switches to
    said_by_welcome: bool = False  # the welcome answers it: nothing of its own first


@dataclass(frozen=True, slots=True)
class Faq:
    topics: tuple[FaqTopic, ...] = ()
    file: str = FAQ_FILE

    def topic(self, topic_id: str) -> FaqTopic | None:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        return None


NO_FAQ = Faq()


@lru_cache(maxsize=16)
def as_choices(faq: Faq) -> tuple[Choice, ...]:
    """The topics as choices for the matcher: the value is the topic's id."""
    return tuple(
        Choice(t.id, Text(tuple((lang, p[0]) for lang, p in t.examples[:1])), (), None, t.examples)
        for t in faq.topics
    )


def parse_faq(
    source: str,
    file: str,
    languages: Sequence[str],
    context_keys: Collection[str],
    commands: Sequence[Command] = (),
) -> tuple[Faq | None, list[Problem]]:
    """The FAQ from its TOML source, or every problem found (structure and placeholders)."""
    data, problems = read_toml(source, file)
    if data is None:
        return None, problems
    reader = _FaqReader(file, languages)
    faq = reader.faq(data, frozenset(context_keys), commands)
    return faq, reader.problems


class _FaqReader(Reader):
    def faq(
        self, data: dict[str, Any], context_keys: frozenset[str], commands: Sequence[Command]
    ) -> Faq | None:
        self.unknown_keys(data, FAQ_KEYS, ())
        topics: list[FaqTopic] = []
        owner: dict[str, str] = {}
        command_words = {normalize(w): c.id for c in commands for w in c.all_words()}
        for i, raw in enumerate(self.array(data.get("topics", []), ("topics",))):
            topic = self.topic(raw, i, context_keys)
            if topic is None:
                continue
            at = (f"topic '{topic.id}'",)
            if any(t.id == topic.id for t in topics):
                self.problem(at, f"duplicate topic id '{topic.id}'")
            for _, phrases in topic.examples:
                for phrase in phrases:
                    said = normalize(phrase)
                    if said in command_words:
                        self.problem(
                            at + ("examples",),
                            f"'{phrase}' is a word of command '{command_words[said]}', "
                            "which always comes first",
                        )
                    first = owner.setdefault(said, topic.id)
                    if first != topic.id:
                        self.problem(at + ("examples",), f"'{phrase}' is also in topic '{first}'")
            topics.append(topic)
        if self.problems:
            return None
        return Faq(tuple(topics), self.file)

    def topic(self, raw: object, index: int, context_keys: frozenset[str]) -> FaqTopic | None:
        data = self.table(raw, (f"topics[{index}]",))
        if data is None:
            return None
        topic_id = self.string(data, "id", (f"topics[{index}]",), ident=True)
        at = (f"topic '{topic_id}'",) if topic_id is not None else (f"topics[{index}]",)
        self.unknown_keys(data, TOPIC_KEYS, at)
        examples = self.phrases(data.get("examples", {}), at + ("examples",))
        for lang in self.languages:
            if not dict(examples).get(lang):
                self.problem(at + ("examples",), f"no example phrases in '{lang}'")
        answer = self.text(data["answer"], at + ("answer",)) if "answer" in data else None
        if "answer" not in data:
            self.problem(at, "missing key 'answer'")
        for lang, text in answer.by_language if answer is not None else ():
            self.placeholders(text, at + ("answer", lang), context_keys)
        language = self.string(data, "language", at, required=False)
        if language is not None and language not in self.languages:
            self.problem(at + ("language",), f"unknown language '{language}'")
        welcome = data.get("said_by_welcome", False)
        if not isinstance(welcome, bool):
            self.problem(at + ("said_by_welcome",), "must be true or false")
        if topic_id is None or answer is None or not IDENT.match(topic_id):
            return None
        return FaqTopic(topic_id, examples, answer, language, welcome is True)

    def placeholders(self, text: str, path: tuple[str, ...], context_keys: frozenset[str]) -> None:
        try:
            names = placeholders.names(text)
        except placeholders.TemplateSyntaxError:
            return  # reported by `text`
        for name in names:
            if name not in context_keys:
                self.problem(path, f"unknown placeholder '{name}' (not a context key)")
