"""How the engine reads one typed message at a question of the bundled library, for the
specifications of issue 17's reading rules (corrections, doubts, tags, close calls)."""

from __future__ import annotations

from flows.library import FlowLibrary
from flows.understanding.evaluation import question_choices
from flows.understanding.layers import read_message


def taken(library: FlowLibrary, question: str, text: str) -> str:
    """The choice's value, `faq:TOPIC`, `?` for a close call, or `-` for nothing."""
    choices, yes_no = question_choices(library, question)
    found = read_message(text, choices, library.faq, library.globals.words, yes_no=yes_no)
    if found.faq.topic is not None:
        return "faq:" + found.faq.topic.id
    if found.reading.kind == "close":
        return "?"
    return found.reading.choice.value if found.reading.choice else "-"
