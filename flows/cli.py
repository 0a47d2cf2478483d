"""The functions behind `lk3 flows check|graph|test` (argparse lives in bot/cli.py).

Each returns an exit code and writes to the stream it is given, so the lead's
command line and the tests share one implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from flows.errors import FlowSetError, TranscriptError
from flows.library import FlowLibrary
from flows.loader import load_library
from flows.mermaid import flowchart
from flows.transcripts import run_transcripts

DEFAULT_LANGUAGES = ("id", "en")


def _load(directory: Path, languages: Sequence[str], out: TextIO) -> FlowLibrary | None:
    try:
        return load_library(directory, languages=languages)
    except FlowSetError as exc:
        for problem in exc.problems:
            print(problem, file=out)
        print(f"{len(exc.problems)} problem(s) in {directory}", file=out)
        return None


def check_command(directory: Path, languages: Sequence[str], out: TextIO) -> int:
    """Checks a flow directory: 0 and a one-line summary, or 1 and every problem."""
    library = _load(directory, languages, out)
    if library is None:
        return 1
    nodes = sum(len(library.flow(f).nodes) for f in library.flow_ids)
    print(
        f"ok: {len(library.flow_ids)} flows, {nodes} nodes, "
        f"{len(library.globals.commands)} commands, languages {', '.join(library.languages)}",
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
