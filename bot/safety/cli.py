"""``lk3 safety``: classify messages from standard input, or report the evaluation figures."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.safety.classifier import Classifier
from bot.safety.errors import SafetyDataError
from bot.safety.evaluation import HOLDOUT_FILE, TUNING_FILE, bundled_examples, evaluate


def classify_stream(inp: TextIO, out: TextIO, classifier: Classifier | None = None) -> int:
    """Writes one JSON verdict per input line, flushed at once so a pipe sees it live."""
    active = classifier if classifier is not None else Classifier.bundled()
    for line in inp:
        text = line.rstrip("\r\n")
        verdict = active.classify(text)
        record = {"text": text, "level": verdict.level.value, "reasons": list(verdict.reasons)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def report_figures(out: TextIO, classifier: Classifier | None = None) -> int:
    """Prints the figures on both bundled evaluation sets; 1 if an urgent one reads as none."""
    active = classifier if classifier is not None else Classifier.bundled()
    worst = 0
    for name in (TUNING_FILE, HOLDOUT_FILE):
        figures = evaluate(active, bundled_examples(name))
        out.write(figures.summary(name) + "\n")
        worst = max(worst, figures.urgent_as_none)
    return 1 if worst else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``lk3 safety ...`` and ``python -m bot.safety ...``."""
    parser = argparse.ArgumentParser(prog="lk3 safety", description=__doc__)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="directory with lexicon.toml and rules.toml (default: bundled)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("classify", help="one message per stdin line -> one JSON line")
    commands.add_parser("evaluate", help="figures on the bundled evaluation sets")
    commands.add_parser("check", help="validate the data files and exit")
    args = parser.parse_args(argv)
    try:
        classifier = Classifier.from_dir(args.data) if args.data else Classifier.bundled()
    except SafetyDataError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if args.command == "classify":
        return classify_stream(sys.stdin, sys.stdout, classifier)
    if args.command == "evaluate":
        return report_figures(sys.stdout, classifier)
    sys.stdout.write(f"ok: {len(classifier.rule_ids)} rules\n")
    return 0
