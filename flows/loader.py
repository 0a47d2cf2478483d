"""Loading a flow directory: read every file, check structure, then the graph.

The only module of the package (with the CLI) that touches the file system.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from flows.checker import GraphChecker
from flows.errors import FlowSetError, Problem
from flows.faq import FAQ_FILE, NO_FAQ, Faq, parse_faq
from flows.library import FlowLibrary
from flows.model import Flow, Globals
from flows.positions import with_lines
from flows.sources import content_version, parse_flow, parse_globals

GLOBALS_FILE = "globals.toml"

DEFAULT_CONTEXT_KEYS: tuple[str, ...] = (
    "office_name",
    "office_address",
    "office_hours",
    "office_phone",
    "hotlines",
    "consent_version",
    # Retention periods (days) quoted in the consent text, from configuration.
    "retention_case_days",
    "retention_first_contact_days",
    # The family's booking (present only when there is one): the next confirmed
    # appointment, and the time held for them while they confirm.
    "booking_code",
    "booking_when",
    "booking_mode",
    "booking_counsellor",
    "hold_code",
    "hold_when",
    "hold_mode",
    "hold_counsellor",
    "hold_minutes",
    # Who was alerted to an urgent case and when an answer can be expected (the
    # crisis flow), read by the host only when a flow shows it.
    "who_is_told",
)
"""Context keys the host always passes (configuration may add more)."""

DEFAULT_OPTION_SETS: tuple[str, ...] = ("booking_modes", "booking_days", "booking_times")
"""Option sets the host fills at run time for `ask.choices_from`."""


def bundled_library_dir() -> Path:
    """The flows shipped with the bot: `flows/library` inside the package."""
    return Path(__file__).resolve().parent / "library"


def load_library(
    directory: Path,
    *,
    languages: Sequence[str] = ("id", "en"),
    context_keys: Collection[str] = DEFAULT_CONTEXT_KEYS,
    max_choices: int = 10,
    option_sets: Collection[str] = DEFAULT_OPTION_SETS,
) -> FlowLibrary:
    """Every flow in `directory`, its globals.toml and its faq.toml (optional), checked;
    FlowSetError lists all problems."""
    languages = tuple(languages)
    problems: list[Problem] = []
    if not languages:
        raise FlowSetError((Problem(str(directory), (), "no languages configured"),))
    if not directory.is_dir():
        raise FlowSetError((Problem(str(directory), (), "not a directory"),))
    globals_: Globals | None = None
    flows: dict[str, Flow] = {}
    sources: dict[str, str] = {}
    texts: dict[str, str] = {}  # every file's source by name, to find a problem's line
    broken: set[str] = set()
    faq_source: str | None = None
    globals_path = directory / GLOBALS_FILE
    if not globals_path.is_file():
        problems.append(Problem(GLOBALS_FILE, (), "missing: every flow directory needs one"))
    for path in sorted(directory.glob("*.toml")):
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(path.name, (), f"cannot be read: {type(exc).__name__}"))
            continue
        texts[path.name] = source
        if path.name == GLOBALS_FILE:
            globals_, found = parse_globals(source, path.name, languages)
            problems += found
            continue
        if path.name == FAQ_FILE:
            faq_source = source
            continue
        flow, found = parse_flow(source, path.name, languages, max_choices)
        problems += found
        if flow is None:
            broken.add(path.stem)
            continue
        if flow.id in flows:
            other = flows[flow.id].file
            problems.append(
                Problem(path.name, ("id",), f"duplicate flow id '{flow.id}' (also in {other})")
            )
            continue
        if path.stem != flow.id:
            problems.append(
                Problem(
                    path.name, ("id",), f"flow '{flow.id}' must be in a file named {flow.id}.toml"
                )
            )
        flows[flow.id] = flow
        sources[flow.id] = source
    problems += GraphChecker(flows, broken, globals_, languages, context_keys, option_sets).check()
    faq: Faq | None = NO_FAQ
    if faq_source is not None:
        commands = globals_.commands if globals_ is not None else ()
        faq, found = parse_faq(faq_source, FAQ_FILE, languages, context_keys, commands)
        problems += found
    if problems or globals_ is None or faq is None:
        raise FlowSetError(with_lines(tuple(problems), texts))
    return FlowLibrary(
        globals_,
        {(f.id, f.version): f for f in flows.values()},
        {f.id: f.version for f in flows.values()},
        {(f.id, f.version): sources[f.id] for f in flows.values()},
        languages=languages,
        context_keys=context_keys,
        max_choices=max_choices,
        option_sets=option_sets,
        faq=faq,
    )


__all__ = [
    "DEFAULT_CONTEXT_KEYS",
    "FAQ_FILE",
    "DEFAULT_OPTION_SETS",
    "bundled_library_dir",
    "content_version",
    "load_library",
]
