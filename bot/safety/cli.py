"""``lk3 safety``: classify, explain and evaluate messages; train and check the data.

- ``classify``: one message per standard-input line, one JSON verdict per output line.
- ``explain``: for the message on standard input (or given as an argument), which rules
  fired, the model's scores and its strongest features.
- ``eval FILE...``: the confusion table overall, by category and by style, the worst
  misses and the time per message (``--split dev`` evaluates a bundled split).
- ``evaluate``: one summary line per bundled split.
- ``train``: fits the learned layer on the train split, chooses thresholds on dev, writes
  ``model.json`` (needs scikit-learn: ``pip install 'lk3-bot[train]'``).
- ``check``: validates the data files.
- ``export-labels --config CONFIG --out FILE``: counsellors' labels as corpus lines
  (an admin's job on the server: see ``labels.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.safety.classifier import Classifier
from bot.safety.corpus import SPLITS, Example, bundled_split, read_examples
from bot.safety.errors import SafetyDataError
from bot.safety.evaluation import breakdown, confusion_lines, evaluate, group_lines
from bot.safety.labels import COMMAND as EXPORT_LABELS
from bot.safety.labels import add_export_command, run_export

WORST_SHOWN = 25
URGENT_AS_NONE_TARGET = 0.01


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
    """Prints one summary per bundled split; 1 if more urgent messages read as none in dev
    or test than the target allows."""
    active = classifier if classifier is not None else Classifier.bundled()
    worst = 0.0
    for split in SPLITS:
        figures = evaluate(active, bundled_split(split))
        out.write(figures.summary(split) + "\n")
        if split != "train":
            worst = max(worst, figures.urgent_none_rate)
    return 1 if worst > URGENT_AS_NONE_TARGET else 0


def report_eval(
    examples: Sequence[Example],
    name: str,
    out: TextIO,
    classifier: Classifier | None = None,
    show_misses: bool = True,
) -> int:
    """Prints the full evaluation of one set; 1 if any urgent message reads as none."""
    active = classifier if classifier is not None else Classifier.bundled()
    figures = evaluate(active, examples)
    lines = [figures.summary(name), "", *confusion_lines(figures), ""]
    lines += group_lines(breakdown(active, examples, lambda e: e.style), "style")
    lines.append("")
    lines += group_lines(breakdown(active, examples, lambda e: e.category), "category")
    lines.append("")
    lines.append(f"time per message: {figures.micros_per_message:.0f} µs")
    if show_misses and figures.misses:
        lines += ["", f"worst misses (of {len(figures.misses)}):"]
        for miss in figures.misses[:WORST_SHOWN]:
            example = miss.example
            lines.append(
                f"  {example.level.value}->{miss.got.value} [{example.category}/{example.style}] "
                f"{','.join(miss.reasons) or '-'}: {example.text}"
            )
    out.write("\n".join(lines) + "\n")
    return 1 if figures.urgent_as_none else 0


def explain(text: str, out: TextIO, classifier: Classifier | None = None) -> int:
    """Prints why one message gets its level."""
    active = classifier if classifier is not None else Classifier.bundled()
    found = active.explain(text)
    lines = [
        f"level: {found.assessment.level.value}",
        f"reasons: {', '.join(found.assessment.reasons) or '-'}",
        f"rules alone: {found.rules_level.value} ({', '.join(found.rules) or 'no rule fired'})",
    ]
    model = active.model
    if found.scores is None or model is None:
        lines.append("model: none loaded")
    else:
        limits = model.thresholds
        lines.append(
            f"model: urgent {found.scores.urgent:.3f} (raises at {limits.urgent:.3f}), "
            f"urgent-or-check {found.scores.flagged:.3f} (raises at {limits.check:.3f})"
        )
        for title, features in (
            ("urgent head", found.urgent_features),
            ("urgent-or-check head", found.flagged_features),
        ):
            shown = ", ".join(f"{name!r} {weight:+.2f}" for name, weight in features)
            lines.append(f"  {title}: {shown}")
    out.write("\n".join(lines) + "\n")
    return 0


def train_model(
    out: TextIO, target: Path, data: Path | None, extra: Sequence[Path] = ()
) -> int:
    """Trains on the bundled train and dev splits (plus private ``extra`` files) and writes
    ``model.json``."""
    try:
        from bot.safety.training import train
    except ImportError:  # pragma: no cover - depends on the installation
        out.write("training needs scikit-learn: pip install 'lk3-bot[train]'\n")
        return 2
    rules = (Classifier.from_dir(data) if data else Classifier.bundled_rules()).with_model(None)
    try:
        private = [
            example
            for path in extra
            for file in (sorted(path.glob("*.tsv")) if path.is_dir() else [path])
            for example in read_examples(file)
        ]
        text, report = train([*bundled_split("train"), *private], bundled_split("dev"), rules)
    except ImportError:
        out.write("training needs scikit-learn: pip install 'lk3-bot[train]'\n")
        return 2
    target.write_text(text, encoding="utf-8")
    out.write(
        f"wrote {target}: trained on {report.train_lines} lines, tuned on {report.dev_lines}\n"
        f"thresholds: urgent {report.thresholds.urgent:.3f}, check {report.thresholds.check:.3f}\n"
        f"dev: urgent recall {report.dev_urgent_recall:.3f}, urgent->none "
        f"{report.dev_urgent_as_none}, check caught {report.dev_check_caught:.3f}, "
        f"none->urgent {report.dev_none_as_urgent:.3f}, "
        f"none->check {report.dev_none_as_check:.3f}\n"
        "Before using it, check it on the test split: lk3 safety eval --split test --no-misses\n"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``lk3 safety ...`` and ``python -m bot.safety ...``."""
    parser = argparse.ArgumentParser(prog="lk3 safety", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="directory with lexicon.toml, rules.toml and optionally model.json (default: bundled)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("classify", help="one message per stdin line -> one JSON line")
    commands.add_parser("evaluate", help="one summary line per bundled corpus split")
    evaluation = commands.add_parser("eval", help="full figures on labelled files or a split")
    evaluation.add_argument("files", nargs="*", type=Path)
    evaluation.add_argument("--split", choices=SPLITS, default=None)
    evaluation.add_argument("--no-misses", action="store_true",
                            help="print figures only (for the blind test split)")
    explaining = commands.add_parser(
        "explain",
        help="why one message gets its level (read from standard input, so a family's "
        "words stay out of the shell history)",
    )
    explaining.add_argument("text", nargs="?", default="-", help="the message, or - (stdin)")
    training = commands.add_parser("train", help="train the learned layer (needs scikit-learn)")
    training.add_argument("--out", type=Path, required=True, help="where to write model.json")
    training.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="a private labelled file or folder of *.tsv added to train (counsellors' labels); "
        "keep it outside the repository",
    )
    commands.add_parser("check", help="validate the data files and exit")
    add_export_command(commands)
    args = parser.parse_args(argv)
    if args.command == EXPORT_LABELS:
        return run_export(args.config, args.out)
    try:
        if args.command == "train":
            return train_model(sys.stdout, args.out, args.data, args.extra)
        classifier = Classifier.from_dir(args.data) if args.data else Classifier.bundled()
        if args.command == "classify":
            return classify_stream(sys.stdin, sys.stdout, classifier)
        if args.command == "evaluate":
            return report_figures(sys.stdout, classifier)
        if args.command == "eval":
            return _eval(args, classifier)
        if args.command == "explain":
            text = sys.stdin.read().rstrip("\r\n") if args.text == "-" else args.text
            return explain(text, sys.stdout, classifier)
    except SafetyDataError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    model = "with model" if classifier.model is not None else "no model"
    sys.stdout.write(f"ok: {len(classifier.rule_ids)} rules, {model}\n")
    return 0


def _eval(args: argparse.Namespace, classifier: Classifier) -> int:
    if not args.files and args.split is None:
        sys.stderr.write("give one or more files, or --split train|dev|test\n")
        return 2
    status = 0
    sets: list[tuple[str, tuple[Example, ...]]] = []
    if args.split is not None:
        sets.append((args.split, bundled_split(args.split)))
    sets.extend((str(path), read_examples(path)) for path in args.files)
    for name, examples in sets:
        status = max(
            status, report_eval(examples, name, sys.stdout, classifier, not args.no_misses)
        )
    return status

