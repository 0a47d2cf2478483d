"""The functions behind `lk3 flows check|graph|test|understand` (argparse: bot/cli.py).

Each returns an exit code and writes to the stream it is given, so the lead's
command line and the tests share one implementation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from flows.errors import FlowSetError, TranscriptError
from flows.exchange import OptionSource, no_options
from flows.library import FlowLibrary
from flows.loader import load_library
from flows.mermaid import flowchart
from flows.problem_words import describe
from flows.transcripts import run_transcripts
from flows.understanding.evaluation import (
    NO_CHOICE,
    Figures,
    Host,
    Tally,
    evaluate,
    parse_answers,
)

DEFAULT_LANGUAGES = ("id", "en")


def _load(directory: Path, languages: Sequence[str], out: TextIO) -> FlowLibrary | None:
    try:
        return load_library(directory, languages=languages)
    except FlowSetError as exc:
        # Indonesian first, English indented below: the admins who edit flows read both.
        for problem in exc.problems:
            print(describe(problem, "id"), file=out)
            print(f"  {describe(problem, 'en')}", file=out)
        print(f"{len(exc.problems)} masalah di {directory}", file=out)
        print(f"  {len(exc.problems)} problem(s) in {directory}", file=out)
        return None


def check_command(directory: Path, languages: Sequence[str], out: TextIO) -> int:
    """Checks a flow directory: 0 and a one-line summary, or 1 and every problem."""
    library = _load(directory, languages, out)
    if library is None:
        return 1
    nodes = sum(len(library.flow(f).nodes) for f in library.flow_ids)
    topics = f"{len(library.faq.topics)} FAQ topics, " if library.faq.topics else ""
    print(
        f"ok: {len(library.flow_ids)} flows, {nodes} nodes, "
        f"{len(library.globals.commands)} commands, {topics}"
        f"languages {', '.join(library.languages)}",
        file=out,
    )
    return 0


def graph_command(
    directory: Path, flow_id: str, out: TextIO, *, languages: Sequence[str] = DEFAULT_LANGUAGES
) -> int:
    """Prints a flow as a Mermaid flowchart: 0, or 1 when the set is invalid or the id unknown."""
    library = _load(directory, languages, out)
    if library is None:
        return 1
    if flow_id not in library.flow_ids:
        print(f"unknown flow '{flow_id}'; flows: {', '.join(library.flow_ids)}", file=out)
        return 1
    out.write(flowchart(library, flow_id))
    return 0


def test_command(
    directory: Path,
    transcripts_dir: Path | None,
    out: TextIO,
    *,
    update: bool = False,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> int:
    """Runs the golden transcripts (default: DIR/transcripts): 0 when all pass."""
    library = _load(directory, languages, out)
    if library is None:
        return 1
    folder = transcripts_dir if transcripts_dir is not None else directory / "transcripts"
    if not folder.is_dir():
        print(f"no transcripts: {folder} is not a directory", file=out)
        return 1
    try:
        report = run_transcripts(library, folder, update=update)
    except TranscriptError as exc:
        print(exc, file=out)
        return 1
    for result in report.failed:
        for failure in result.failures:
            print(failure, file=out)
    for path in report.updated:
        print(f"updated {path}", file=out)
    all_nodes = {(f, n.id) for f in library.flow_ids for n in library.flow(f).nodes}
    missed = sorted(all_nodes - report.visited)
    print(
        f"{len(report.results) - len(report.failed)} of {len(report.results)} cases passed; "
        f"{len(all_nodes) - len(missed)} of {len(all_nodes)} nodes visited",
        file=out,
    )
    if missed:
        print("not visited: " + ", ".join(f"{f}.{n}" for f, n in missed), file=out)
    return 0 if not report.failed or update else 1


test_command.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported


def understand_command(
    directory: Path,
    files: Sequence[Path],
    out: TextIO,
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    worst: int = 15,
    options: OptionSource = no_options,
    host: Host | None = None,
) -> int:
    """Measures the choice matcher on typed-answer files (`question TAB expected TAB style
    TAB text`): accuracy per question and style, wrong picks, close calls, time per answer.
    `options` are the host's (the booking modes), offered as the bot offers them."""
    library = _load(directory, languages, out)
    if library is None:
        return 1
    problems: list[str] = []
    answers = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"cannot read the answers: {type(exc).__name__}", file=out)
            return 1
        found: list[str] = []
        answers += parse_answers(lines, found)
        problems += [f"{path.name} {why}" for why in found]
    figures = evaluate(
        library, answers, time.perf_counter, strict=False, options=options, host=host
    )
    figures.skipped[:0] = problems
    if not figures.results:
        print("no answer to measure", file=out)
        for why in figures.skipped[:worst]:
            print(f"  skipped: {why}", file=out)
        return 1
    for line in report(figures, worst):
        print(line, file=out)
    return 0


def sum_tally(tallies: dict[str, Tally]) -> Tally:
    """One tally of several."""
    total = Tally()
    for t in tallies.values():
        total.lines += t.lines
        total.right += t.right
        total.wrong += t.wrong
        total.asked_back += t.asked_back
    return total


def report(figures: Figures, worst: int) -> list[str]:
    """The figures of `understand_command` as lines of text."""
    results = figures.results
    total = len(results)
    fitting = [r for r in results if r.answer.kind == "choice"]
    unfit = [r for r in results if r.answer.expected == NO_CHOICE]
    asked = [r for r in results if r.answer.kind == "faq"]

    def share(part: int, whole: int) -> str:
        return f"{100 * part / whole:5.1f}%" if whole else "    -"

    def table(title: str, tallies: dict[str, Tally]) -> list[str]:
        lines = [f"{title:<28} {'lines':>5} {'right':>6} {'wrong':>6} {'asked':>6}"]
        for name, t in tallies.items():
            lines.append(
                f"  {name:<26} {t.lines:>5} {share(t.right, t.lines)} "
                f"{share(t.wrong, t.lines)} {share(t.asked_back, t.lines)}"
            )
        return lines

    right = sum(r.right for r in fitting)
    lines = [
        f"{total} typed answers ({len(fitting)} fit a choice, {len(unfit)} fit none"
        + (f", {len(asked)} ask an FAQ topic)" if asked else ")"),
        f"picked the intended choice: {share(right, len(fitting))} of those that fit one",
        f"picked a WRONG choice:      {share(sum(r.wrong for r in results), total)} of all"
        + (" (or answered a wrong FAQ topic)" if asked else ""),
        f"asked 'Maksud Anda ...?':   {share(sum(r.asked_back for r in results), total)} of all"
        " (neither right nor wrong)",
        f"left unmatched when none fits: {share(sum(r.right for r in unfit), len(unfit))}",
        "",
        *table("per question (fitting)", figures.tally(lambda r: r.answer.question)),
        "",
        *table("per style (fitting)", figures.tally(lambda r: r.answer.style)),
        "",
        *table("fitting no choice", figures.tally(lambda r: r.answer.question, fits=False)),
    ]
    if asked:
        lines += [
            "",
            f"answered the intended FAQ topic: {share(sum(r.right for r in asked), len(asked))}"
            " of the questions of their own",
            *table(
                "per expected kind",
                {
                    k: v
                    for k in ("choice", "faq", "none")
                    for v in [sum_tally(figures.tally_kind(lambda r: "", k))]
                    if v.lines
                },
            ),
            "",
            *table("per FAQ topic", figures.tally_kind(lambda r: r.answer.expected, "faq")),
        ]
    if figures.seconds:
        ordered = sorted(figures.seconds)
        mean = sum(ordered) / len(ordered)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        lines += [
            "",
            f"time per answer: mean {mean * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms, "
            f"max {ordered[-1] * 1000:.3f} ms",
        ]
    if figures.skipped:
        lines += ["", f"skipped {len(figures.skipped)} line(s):"]
        lines += [f"  {why}" for why in figures.skipped[:worst]]
    misses = figures.misses()
    if misses and worst:
        lines += ["", f"worst misses ({min(worst, len(misses))} of {len(misses)}):"]
        for r in misses[:worst]:
            how = "asked" if r.asked_back else ("WRONG" if r.wrong else "none ")
            also = f"/{r.reading.other.value}" if r.reading.other else ""
            lines.append(
                f"  {how} {r.answer.question} {r.answer.expected} -> {r.got}{also} "
                f"({r.reading.confidence:.2f}) [{r.answer.style}] {r.answer.text}"
            )
    return lines
