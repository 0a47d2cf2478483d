"""A flow problem in the words of the admin who fixes it: the line, the place counted from 1
("pilihan ke-5 pada pertanyaan triage.category"), and the message, in Indonesian or English.

`Problem` keeps the checker's compact form (`node 'category' -> choice[4]`, zero-based,
English) for logs and tests; this is what `lk3 flows check` and the console show.
The words live in problem_words.toml beside this module, so they are edited as data.
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from flows.errors import Problem

__all__ = ["ProblemWords", "describe"]

_FILE = Path(__file__).with_name("problem_words.toml")
_INDEXED = re.compile(r"^(\w+)\[(\d+)\]$")
_NAMED = re.compile(r"^(\w+) '(.*)'$")
_CHOICE_IN_MESSAGE = re.compile(r"choice\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class _Message:
    english: str
    indonesian: str
    pattern: re.Pattern[str]


def _pattern(template: str) -> re.Pattern[str]:
    """`unknown key '{key}'` -> a regular expression capturing `key`."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(f"(?P<{field}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True, slots=True)
class ProblemWords:
    places: dict[str, dict[str, str]]
    values: dict[str, str]
    messages: tuple[_Message, ...]

    @classmethod
    def load(cls, path: Path = _FILE) -> ProblemWords:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        messages = [_Message(m["en"], m["id"], _pattern(m["en"])) for m in raw.get("messages", [])]
        # The most specific first: the one with the most fixed text.
        messages.sort(key=lambda m: -len(re.sub(r"\{\w+\}", "", m.english)))
        return cls(dict(raw["places"]), dict(raw["values"]), tuple(messages))

    def _place(self, name: str, lang: str, **values: object) -> str:
        return self.places[name]["id" if lang == "id" else "en"].format(**values)

    def message(self, message: str, lang: str) -> str:
        """The checker's message in `lang`, positions inside it counted from 1."""
        message = _CHOICE_IN_MESSAGE.sub(lambda m: f"choice {int(m.group(1)) + 1}", message)
        if lang != "id":
            return message
        for known in self.messages:
            found = known.pattern.fullmatch(message)
            if found is not None:
                values = {k: self.values.get(v, v) for k, v in found.groupdict().items()}
                return known.indonesian.format(**values)
        return message

    def covers(self, message: str) -> bool:
        """Whether the message has Indonesian words here (for the test that reads the code)."""
        message = _CHOICE_IN_MESSAGE.sub(lambda m: f"choice {int(m.group(1)) + 1}", message)
        return any(m.pattern.fullmatch(message) for m in self.messages)

    def place(self, problem: Problem, lang: str) -> str:
        """Where in the flow: `pilihan ke-5 pada pertanyaan triage.category, kunci label`."""
        flow = Path(problem.file).stem
        asks = any(s == "ask" or s.startswith("choice[") for s in problem.path)
        parts: list[str] = []
        keys: list[str] = []
        for at, segment in enumerate(problem.path):
            named, indexed = _NAMED.match(segment), _INDEXED.match(segment)
            following = problem.path[at + 1] if at + 1 < len(problem.path) else ""
            if named and named.group(1) == "node":
                kind = "question" if asks else "node"
                parts.append(self._place(kind, lang, flow=flow, node=named.group(2)))
            elif named and named.group(1) in self.places:
                parts.append(self._place(named.group(1), lang, id=named.group(2)))
            elif indexed and indexed.group(1) in self.places:
                parts.append(self._place(indexed.group(1), lang, n=int(indexed.group(2)) + 1))
            elif indexed or segment.isdigit():
                name, n = (indexed.group(1), indexed.group(2)) if indexed else ("", segment)
                key = ".".join([*keys, name] if name else keys) or "?"
                parts.append(self._place("item", lang, n=int(n) + 1, key=key))
            elif segment == "ask" or (segment == "router" and following.startswith("case[")):
                continue  # said by "question" and "rule … of the router"
            else:
                keys.append(segment)
                continue
            keys = []
        where = ""
        for part in parts:
            where = part if not where else self._place("inside", lang, inner=part, outer=where)
        if keys:
            key = ".".join(keys)
            return (
                self._place("key", lang, where=where, key=key)
                if where
                else self._place("only_key", lang, key=key)
            )
        return where

    def describe(self, problem: Problem, lang: str) -> str:
        """`Baris 42: pilihan ke-5 pada pertanyaan triage.category: kunci 'x' tidak dikenal`."""
        place = self.place(problem, lang)
        if problem.line is None:
            head = self._place("file", lang, file=problem.file)
        else:
            head = self._place("line", lang, line=problem.line)
            if f"{Path(problem.file).stem}." not in place:
                head = self._place("in_file", lang, where=head, file=problem.file)
        said = self.message(problem.message, lang)
        return f"{head}: {place}: {said}" if place else f"{head}: {said}"


@functools.cache
def _bundled() -> ProblemWords:
    return ProblemWords.load()


def describe(problem: Problem, lang: str) -> str:
    """`problem` in `lang` ("id" or "en"), with the words shipped beside this module."""
    return _bundled().describe(problem, lang)
