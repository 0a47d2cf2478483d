"""Golden transcripts: conversations written down as tables, replayed against the engine.

Format (one TOML file per flow, `flows/library/transcripts/<flow>.toml`)::

    [defaults]                          # optional; every key optional
    now = 2025-12-12T09:00:00+09:00     # the clock the engine is given (aware datetime)
    language = "id"                     # the session language a case starts in
    buttons = false                     # channel capabilities passed in the Context
    max_choices = 10
    context = { office_name = "LK3 Kota Ambon" }   # merged over the built-in defaults
    options = { booking_days = [["2025-12-15", "Senin, 15 Desember", "2025-12-15"]] }
                                        # the host's options per set (`ask.choices_from`):
                                        # [value, label] pairs, or [value, label, when] for
                                        # a day or time (flows/days.py); also per case and turn
    calendar = { today = 2025-12-12, last = 2025-12-26, open = [0, 1, 2, 3, 4],
                 closed = [["2025-12-25", "holiday", "Hari Raya Natal"]] }
                                        # the host's calendar for typed days (optional)

    [[cases]]
    name = "consent given, goes to the menu"       # unique within the file
    language = "en"                     # optional, overrides defaults.language
    vars = { consent = "yes" }          # optional starting variables
    context = { office_hours = "..." }  # optional, merged over defaults.context
    now = 2025-12-14T22:00:00+09:00     # optional

    [[cases.turns]]                     # each turn is ONE of:
    start = ""                          #   a start (the value is the deep-link parameter)
    # interrupt = "crisis"              #   the host pushes a flow on top (a conversation
                                        #   usually begins with `interrupt = "<flow>"`;
                                        #   "<flow>.<node>" begins at one of its entries)
    # send = "2"                        #   the person writes a text
    # press = "yes"                     #   the person presses a button (its value)
    expect = [                          # every output of the turn, in order:
      "Halo ...",                       #   a message: its text,
      '''Pilih satu:                    #   then one line per option: "[value] label"
    [info] Informasi''',
      "effect open_case category=kdrt urgency=darurat",   # an effect and its params
      "error missing_placeholder feedback.toml: ...",     # an author's mistake
    ]
    expect_vars = { rating = "5" }      # optional: these variables after the turn

A case starts with no session state (or `vars` only). The runner compares each
turn's outputs with `expect`, exactly. `update=True` rewrites every `expect` with
what the engine now says; the file is rewritten in a canonical layout and its
comments are lost, so review the diff.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flows import tomlwriter
from flows.engine import step
from flows.errors import TranscriptError
from flows.exchange import (
    Calendar,
    ChannelCaps,
    ClosedDay,
    Context,
    Effect,
    Input,
    Message,
    Option,
    Output,
    static_options,
)
from flows.library import FlowLibrary
from flows.model import Value
from flows.state import SessionState

DEFAULT_NOW = datetime.fromisoformat("2025-12-12T09:00:00+09:00")
DEFAULT_CONTEXT: Mapping[str, str] = {
    "office_name": "LK3 Kota Ambon",
    "office_address": "Jl. Contoh No. 1, Ambon",
    "office_hours": "Senin-Jumat 08.00-16.00 WIT",
    "office_phone": "0911 000000",
    "hotlines": "SAPA 129 (telepon/WA 08111129129); Polisi 110; Ambulans 119",
    "consent_version": "2025-12",
    "retention_case_days": "365",
    "retention_first_contact_days": "30",
    "who_is_told": "Konselor yang sedang bertugas sudah kami beri tahu.",
}
TURN_KINDS = ("start", "interrupt", "send", "press")


def render_output(output: Output) -> str:
    """An output as one transcript string."""
    if isinstance(output, Message):
        lines = [output.text] + [f"[{o.value}] {o.label}" for o in output.options]
        return "\n".join(lines)
    if isinstance(output, Effect):
        return " ".join(["effect", output.name] + [f"{k}={v}" for k, v in output.params])
    return f"error {output.code} {output.where}"


OptionSets = tuple[tuple[str, tuple[Option, ...]], ...]


@dataclass(frozen=True, slots=True)
class TranscriptTurn:
    kind: str  # start | interrupt | send | press
    value: str
    expect: tuple[str, ...]
    expect_vars: tuple[tuple[str, Value], ...] = ()
    options: OptionSets | None = None  # None: the case's options

    def input(self) -> Input:
        if self.kind == "start":
            return Input("start", text=self.value)
        if self.kind == "interrupt":
            flow, _, node = self.value.partition(".")
            return Input("interrupt", flow=flow, node=node)
        if self.kind == "press":
            return Input("choice", choice=self.value)
        return Input("text", text=self.value)


@dataclass(frozen=True, slots=True)
class TranscriptCase:
    name: str
    language: str
    vars: tuple[tuple[str, Value], ...]
    context: Context
    turns: tuple[TranscriptTurn, ...]


@dataclass(frozen=True, slots=True)
class TranscriptFile:
    path: Path
    cases: tuple[TranscriptCase, ...]
    data: Mapping[str, Any]  # the parsed file, for `update`


@dataclass(frozen=True, slots=True)
class CaseResult:
    file: str
    case: str
    failures: tuple[str, ...]  # one readable diff per failing turn
    actual: tuple[tuple[str, ...], ...]  # rendered outputs of every turn
    visited: frozenset[tuple[str, str]]  # (flow, node) entered

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True, slots=True)
class TranscriptReport:
    results: tuple[CaseResult, ...]
    updated: tuple[Path, ...] = ()

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def visited(self) -> frozenset[tuple[str, str]]:
        return frozenset().union(*(r.visited for r in self.results))


def _err(path: Path, where: str, message: str) -> TranscriptError:
    return TranscriptError(
        f"{path.name}: {where}: {message}" if where else f"{path.name}: {message}"
    )


def _table(value: object, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _err(path, where, "must be a table")
    return value


def _vars(value: object, path: Path, where: str) -> tuple[tuple[str, Value], ...]:
    table = _table(value, path, where)
    for name, item in table.items():
        if not isinstance(item, str | int | bool) or isinstance(item, float):
            raise _err(path, f"{where} -> {name}", "must be a string, whole number or boolean")
    return tuple(sorted(table.items()))


def _options(value: object, path: Path, where: str) -> OptionSets:
    sets: list[tuple[str, tuple[Option, ...]]] = []
    for name, pairs in _table(value, path, where).items():
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) in (2, 3) and all(isinstance(x, str) for x in p)
            for p in pairs
        ):
            raise _err(
                path, f"{where} -> {name}", "must be an array of [value, label(, when)] pairs"
            )
        sets.append((name, tuple(Option(*p) for p in pairs)))
    return tuple(sets)


def _calendar(value: object, path: Path, where: str) -> Calendar | None:
    """`calendar = { today, last, open, closed }`: what the host knows of days."""
    if value is None:
        return None
    table = _table(value, path, where)
    today, last = table.get("today"), table.get("last")
    opened = table.get("open", list(range(7)))
    closed = table.get("closed", [])
    if (
        not isinstance(today, date)
        or not isinstance(last, date)
        or not isinstance(opened, list)
        or not all(isinstance(d, int) and 0 <= d <= 6 for d in opened)
        or not isinstance(closed, list)
        or not all(
            isinstance(c, list) and len(c) == 3 and c[1] in ("holiday", "closure") for c in closed
        )
    ):
        raise _err(
            path,
            where,
            "needs today and last (dates), open (weekdays 0-6) and closed "
            '([["YYYY-MM-DD", "holiday" or "closure", "name"], ...])',
        )
    try:
        days = tuple(ClosedDay(date.fromisoformat(str(c[0])), c[1], str(c[2])) for c in closed)
    except ValueError as exc:
        raise _err(path, where, f"closed: {exc}") from exc
    return Calendar(today, last, frozenset(opened), days)


def _strings(value: object, path: Path, where: str) -> dict[str, str]:
    table = _table(value, path, where)
    if not all(isinstance(v, str) for v in table.values()):
        raise _err(path, where, "values must be strings")
    return dict(table)


def parse_transcript(path: Path, source: str) -> TranscriptFile:
    """A transcript file from its TOML source; TranscriptError names file, case and turn."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise _err(path, "", f"not valid TOML: {exc}") from exc
    defaults = _table(data.get("defaults", {}), path, "defaults")
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise _err(path, "", "needs at least one [[cases]]")
    names: set[str] = set()
    cases = []
    for i, raw in enumerate(raw_cases):
        case = _table(raw, path, f"cases[{i}]")
        name = case.get("name")
        if not isinstance(name, str) or not name:
            raise _err(path, f"cases[{i}]", "needs a name")
        if name in names:
            raise _err(path, f"case '{name}'", "duplicate case name")
        names.add(name)
        cases.append(_case(case, defaults, path, f"case '{name}'"))
    return TranscriptFile(path, tuple(cases), data)


def _case(case: dict[str, Any], defaults: dict[str, Any], path: Path, where: str) -> TranscriptCase:
    def pick(key: str, default: Any) -> Any:
        return case.get(key, defaults.get(key, default))

    now = pick("now", DEFAULT_NOW)
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise _err(path, where, "now must be a datetime with a UTC offset")
    language, buttons, max_choices = (
        pick("language", "id"),
        pick("buttons", False),
        pick("max_choices", 10),
    )
    if (
        not isinstance(language, str)
        or not isinstance(buttons, bool)
        or not isinstance(max_choices, int)
    ):
        raise _err(
            path, where, "language must be a string, buttons a boolean, max_choices a number"
        )
    values = dict(DEFAULT_CONTEXT)
    values.update(_strings(defaults.get("context", {}), path, "defaults -> context"))
    values.update(_strings(case.get("context", {}), path, f"{where} -> context"))
    options = dict(_options(defaults.get("options", {}), path, "defaults -> options"))
    options.update(_options(case.get("options", {}), path, f"{where} -> options"))
    calendar = _calendar(pick("calendar", None), path, f"{where} -> calendar")
    context = Context(
        now, ChannelCaps(buttons, max_choices), values, language, static_options(options), calendar
    )
    turns = []
    raw_turns = case.get("turns")
    if not isinstance(raw_turns, list) or not raw_turns:
        raise _err(path, where, "needs at least one [[cases.turns]]")
    for i, raw in enumerate(raw_turns):
        at = f"{where} -> turn[{i}]"
        turn = _table(raw, path, at)
        kinds = [k for k in TURN_KINDS if k in turn]
        if len(kinds) != 1 or not isinstance(turn[kinds[0]], str):
            raise _err(path, at, f"needs exactly one of {', '.join(TURN_KINDS)} (a string)")
        expect = turn.get("expect", [])
        if not isinstance(expect, list) or not all(isinstance(e, str) for e in expect):
            raise _err(path, at, "expect must be an array of strings")
        expect_vars = _vars(turn.get("expect_vars", {}), path, f"{at} -> expect_vars")
        turn_options = None
        if "options" in turn:
            turn_options = tuple({**options, **dict(_options(turn["options"], path, at))}.items())
        turns.append(
            TranscriptTurn(kinds[0], turn[kinds[0]], tuple(expect), expect_vars, turn_options)
        )
    vars_ = _vars(case.get("vars", {}), path, f"{where} -> vars")
    return TranscriptCase(case["name"], language, vars_, context, tuple(turns))


def load_transcripts(directory: Path) -> tuple[TranscriptFile, ...]:
    """Every `*.toml` transcript in `directory`, sorted by file name."""
    files = []
    for path in sorted(directory.glob("*.toml")):
        files.append(parse_transcript(path, path.read_text(encoding="utf-8")))
    return tuple(files)


def run_case(library: FlowLibrary, case: TranscriptCase, file: str = "") -> CaseResult:
    """Replays a case turn by turn; failures say which turn differed and how."""
    state: SessionState | None = SessionState(case.language, (), case.vars)
    failures: list[str] = []
    actual: list[tuple[str, ...]] = []
    visited: set[tuple[str, str]] = set()
    for i, turn in enumerate(case.turns):
        context = case.context
        if turn.options is not None:
            context = replace(context, options=static_options(dict(turn.options)))
        result = step(library, state, turn.input(), context)
        state = result.state
        visited.update(result.visited)
        got = tuple(render_output(o) for o in result.outputs)
        actual.append(got)
        label = f"{file}: case '{case.name}' -> turn[{i}] ({turn.kind} {turn.value!r})"
        if got != turn.expect:
            diff = difflib.unified_diff(
                _lines(turn.expect), _lines(got), "expected", "actual", lineterm=""
            )
            failures.append(f"{label}:\n" + "\n".join(diff))
        for name, want in turn.expect_vars:
            have = state.var(name)
            if have != want or type(have) is not type(want):
                failures.append(f"{label}: variable '{name}' is {have!r}, expected {want!r}")
    return CaseResult(file, case.name, tuple(failures), tuple(actual), frozenset(visited))


def _lines(outputs: Sequence[str]) -> list[str]:
    lines: list[str] = []
    for n, output in enumerate(outputs):
        lines += [f"#{n} {line}" for line in output.split("\n")]
    return lines


def run_transcripts(
    library: FlowLibrary, directory: Path, *, update: bool = False
) -> TranscriptReport:
    """Runs every transcript in `directory`; with `update`, rewrites the expected outputs."""
    results: list[CaseResult] = []
    updated: list[Path] = []
    for transcript in load_transcripts(directory):
        file_results = [run_case(library, case, transcript.path.name) for case in transcript.cases]
        results += file_results
        if update and any(not r.passed for r in file_results):
            header = _header(transcript.path.read_text(encoding="utf-8"))
            text = header + _updated(transcript, file_results)
            transcript.path.write_text(text, encoding="utf-8")
            updated.append(transcript.path)
    return TranscriptReport(tuple(results), tuple(updated))


def _header(text: str) -> str:
    """The comment lines a transcript file opens with (what it covers, and why): an
    update rewrites the expected outputs and keeps them."""
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    for line in lines:
        if not line.startswith("#") and line.strip():
            break
        kept.append(line)
    return "".join(kept)


def _updated(transcript: TranscriptFile, results: Sequence[CaseResult]) -> str:
    data = dict(transcript.data)
    cases = []
    for raw, result in zip(data["cases"], results, strict=True):
        case = dict(raw)
        case["turns"] = [
            {**turn, "expect": list(got)}
            for turn, got in zip(case["turns"], result.actual, strict=True)
        ]
        cases.append(case)
    data["cases"] = cases
    return tomlwriter.dumps(data)
