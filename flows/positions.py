"""Where in a TOML file each key and array item is written, so that a problem names its line.

tomllib gives values without positions, so this reads the source once more with a
small scanner of its own: table headers (`[nodes.ask]`, `[[nodes]]`), dotted keys
(`text.id = …`), inline tables and arrays over several lines, strings of the four
kinds and comments. It records the first line (counting from 1) where each path
appears: `("nodes", 1, "ask", "choices", 4, "label")`. It never judges the file:
on anything it cannot read it stops and keeps what it found, and the caller falls
back to the nearest enclosing path it knows.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flows.errors import Problem

__all__ = ["TomlPath", "key_lines", "line_of", "with_lines"]

TomlPath = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_INDEXED = re.compile(r"^(\w+)\[(\d+)\]$")
_NAMED = re.compile(r"^(\w+) '(.*)'$")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_UNKNOWN_KEY = re.compile(r"unknown key '([^']*)'")
# A problem path's indexed segment -> where that list lives in the file.
_LISTS: dict[str, tuple[str, ...]] = {"choice": ("ask", "choices"), "case": ("cases",)}
# A problem path's named segment (`node 'ask_who'`) -> the array of tables holding it.
_NAMED_LISTS = {"node": "nodes", "topic": "topics", "command": "commands"}


class _Stop(Exception):
    """The scanner met something it does not read; what it found so far stands."""


class _Scanner:
    def __init__(self, source: str) -> None:
        self.text = source
        self.at = 0
        self.line = 1
        self.lines: dict[TomlPath, int] = {}
        self.tables: dict[TomlPath, int] = {}  # array of tables -> how many so far

    def peek(self, size: int = 1) -> str:
        return self.text[self.at : self.at + size]

    def step(self, size: int = 1) -> None:
        self.line += self.text.count("\n", self.at, self.at + size)
        self.at += size

    def blank(self, *, newlines: bool) -> None:
        while self.at < len(self.text):
            char = self.peek()
            if char in " \t" or (newlines and char in "\r\n"):
                self.step()
            elif char == "#":
                end = self.text.find("\n", self.at)
                self.step((len(self.text) if end < 0 else end) - self.at)
            else:
                return

    def record(self, path: TomlPath, line: int) -> None:
        self.lines.setdefault(path, line)

    def run(self) -> dict[TomlPath, int]:
        table: TomlPath = ()
        try:
            while True:
                self.blank(newlines=True)
                if self.at >= len(self.text):
                    break
                if self.peek() == "[":
                    table = self.header()
                else:
                    self.pair(table)
                self.blank(newlines=False)
                if self.peek() not in ("", "\n", "\r"):
                    raise _Stop
        except (_Stop, RecursionError):  # arrays nested too deeply: tomllib refused them too
            pass
        return self.lines

    def key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.blank(newlines=False)
            char = self.peek()
            if char in "\"'":
                parts.append(self.string())
            else:
                found = _BARE.match(self.text, self.at)
                if found is None:
                    raise _Stop
                parts.append(found.group())
                self.step(len(found.group()))
            self.blank(newlines=False)
            if self.peek() != ".":
                return parts
            self.step()

    def resolve(self, parts: list[str]) -> TomlPath:
        path: TomlPath = ()
        for part in parts:
            path += (part,)
            if path in self.tables:
                path += (self.tables[path] - 1,)
        return path

    def header(self) -> TomlPath:
        line, many = self.line, self.peek(2) == "[["
        self.step(2 if many else 1)
        parts = self.key()
        if self.peek(2 if many else 1) != ("]]" if many else "]"):
            raise _Stop
        self.step(2 if many else 1)
        path = self.resolve(parts[:-1]) + (parts[-1],)
        for end in range(1, len(path) + 1):
            self.record(path[:end], line)
        if many:
            count = self.tables.get(path, 0)
            self.tables[path] = count + 1
            path += (count,)
            self.record(path, line)
        return path

    def pair(self, table: TomlPath) -> None:
        line = self.line
        parts = self.key()
        if self.peek() != "=":
            raise _Stop
        self.step()
        self.blank(newlines=False)
        path = table
        for part in parts:
            path += (part,)
            self.record(path, line)
        self.value(path)

    def value(self, path: TomlPath) -> None:
        self.record(path, self.line)
        char = self.peek()
        if char in "\"'":
            self.string()
        elif char == "[":
            self.array(path)
        elif char == "{":
            self.inline(path)
        else:
            start = self.at
            while self.at < len(self.text) and self.peek() not in ",]}\r\n#":
                self.step()
            if self.at == start:
                raise _Stop

    def array(self, path: TomlPath) -> None:
        self.step()
        index = 0
        while True:
            self.blank(newlines=True)
            if self.peek() == "]":
                self.step()
                return
            if not self.peek():
                raise _Stop
            self.value(path + (index,))
            index += 1
            self.blank(newlines=True)
            if self.peek() == ",":
                self.step()

    def inline(self, path: TomlPath) -> None:
        self.step()
        while True:
            self.blank(newlines=True)
            if self.peek() == "}":
                self.step()
                return
            if not self.peek():
                raise _Stop
            self.pair(path)
            self.blank(newlines=True)
            if self.peek() == ",":
                self.step()

    def string(self) -> str:
        quote = self.peek()
        if self.peek(3) == quote * 3:
            end = self.text.find(quote * 3, self.at + 3)
            if end < 0:
                raise _Stop
            while self.text.startswith(quote, end + 3):  # up to two quotes close the string
                end += 1
            body = self.text[self.at + 3 : end]
            self.step(end + 3 - self.at)
            return body
        end = self.at + 1
        while end < len(self.text) and self.text[end] != quote:
            if self.text[end] == "\n":
                raise _Stop
            end += 2 if quote == '"' and self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise _Stop
        body = self.text[self.at + 1 : end]
        self.step(end + 1 - self.at)
        return body


def key_lines(source: str) -> dict[TomlPath, int]:
    """The line (from 1) where each key, table and array item of `source` first appears."""
    return _Scanner(source).run()


def _toml_path(path: tuple[str, ...], data: Mapping[str, Any], *, last: bool) -> TomlPath:
    """A problem's path (`node 'pick' -> choice[2] -> label`) as keys of the file; `last`
    takes the last of two nodes sharing an id (the duplicate) instead of the first."""
    out: TomlPath = ()
    for segment in path:
        named, indexed = _NAMED.match(segment), _INDEXED.match(segment)
        if named and named.group(1) in _NAMED_LISTS:
            array = _NAMED_LISTS[named.group(1)]
            items = data.get(array) if not out else None
            ids = [i.get("id") if isinstance(i, dict) else None for i in items or []]
            if named.group(2) not in ids:
                return out
            index = len(ids) - 1 - ids[::-1].index(named.group(2)) if last else None
            out += (array, ids.index(named.group(2)) if index is None else index)
        elif indexed:
            name, index = indexed.group(1), int(indexed.group(2))
            out += _LISTS.get(name, (name,)) + (index,)
        elif segment.isdigit():
            out += (int(segment),)
        else:  # a key, or `exits.<category>`
            out += tuple(segment.split(".", 1)) if segment.startswith("exits.") else (segment,)
    return out


def line_of(
    problem: Problem, lines: Mapping[TomlPath, int], data: Mapping[str, Any] | None
) -> int | None:
    """The line that `problem` is about (`lines` from `key_lines` of its file): its path's,
    or the nearest enclosing one the file has; None for a problem of the whole file."""
    found = _TOML_LINE.search(problem.message)
    if found is not None:
        return int(found.group(1))
    if not problem.path:
        return None
    duplicate = problem.message.startswith("duplicate ")
    wanted = _toml_path(problem.path, data or {}, last=duplicate)
    unknown = _UNKNOWN_KEY.fullmatch(problem.message)
    if unknown is not None:  # the key itself, not the table that holds it
        wanted += (unknown.group(1),)
    for end in range(len(wanted), 0, -1):
        if wanted[:end] in lines:
            return lines[wanted[:end]]
    return None


def with_lines(problems: tuple[Problem, ...], sources: Mapping[str, str]) -> tuple[Problem, ...]:
    """`problems` with the line each is about, read from the file sources by name."""
    files: dict[str, tuple[Mapping[TomlPath, int], Mapping[str, Any] | None]] = {}
    located = []
    for problem in problems:
        source = sources.get(problem.file)
        if source is None or problem.line is not None:
            located.append(problem)
            continue
        if problem.file not in files:
            try:
                data: Mapping[str, Any] | None = tomllib.loads(source)
            except (tomllib.TOMLDecodeError, RecursionError):
                data = None
            files[problem.file] = (key_lines(source), data)
        lines, data = files[problem.file]
        located.append(replace(problem, line=line_of(problem, lines, data)))
    return tuple(located)
