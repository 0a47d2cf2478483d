"""The flow page's list of typed answers the flow did not understand, for admins to teach it.

Per choice question of the flow: how many typed answers it did not take in the last
`WINDOW_DAYS` days (close calls, "Maksud Anda ...?", apart), and the words families
who consented typed, newest first, the same words once with how often they came,
at most `WORDS_SHOWN` per question. The words were scrubbed of names and numbers
when kept (bot/flowhost/missed.py) and carry no contact, time or channel here; the
page is for admins only (`Need.ADMIN`, as the whole flow page), and showing words is
recorded in the audit log with the flow's id, never the words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.console.auth.login import Access
from bot.console.core import Console
from bot.console.scope import office_of, reader_config
from flows.model import Flow
from storage.flowhost.missed import MissedCount, MissedWords
from storage.privacy.audit import AuditEntry

__all__ = ["WINDOW_DAYS", "WORDS_SHOWN", "MissedQuestion", "MissedView", "TypedWords", "load"]

WINDOW_DAYS = 30
WORDS_SHOWN = 20
"""Distinct answers shown per question (read from up to `WORDS_READ` kept ones)."""
WORDS_READ = 60


@dataclass(frozen=True, slots=True)
class TypedWords:
    """One answer as the page lists it: the words, how often, the latest time, a close call."""

    text: str = field(repr=False)
    times: int = 1
    latest: datetime | None = None
    close: bool = False


@dataclass(frozen=True, slots=True)
class MissedQuestion:
    node: str
    question: str  # the question's text in the admin's language ("" for a node gone since)
    count: MissedCount
    words: tuple[TypedWords, ...] = ()


@dataclass(frozen=True, slots=True)
class MissedView:
    questions: tuple[MissedQuestion, ...]
    days: int  # the window counted
    keep_days: int  # how long the words are kept at all

    @property
    def total(self) -> int:
        return sum(q.count.total for q in self.questions)


def grouped(kept: tuple[MissedWords, ...], limit: int = WORDS_SHOWN) -> tuple[TypedWords, ...]:
    """The same words once (ignoring case and spacing), newest first, with how often."""
    order: list[str] = []
    found: dict[str, TypedWords] = {}
    for item in kept:  # newest first
        key = " ".join(item.text.casefold().split())
        seen = found.get(key)
        if seen is None:
            order.append(key)
            found[key] = TypedWords(item.text, 1, item.at, item.close)
        else:
            found[key] = TypedWords(seen.text, seen.times + 1, seen.latest, seen.close)
    return tuple(found[key] for key in order[:limit])


def questions_of(flow: Flow, lang: str) -> list[tuple[str, str]]:
    """(node id, question text) of every choice question, in the file's order."""
    return [
        (node.id, node.ask.text.get(lang))
        for node in flow.nodes
        if node.ask is not None and node.ask.type in ("choice", "yesno")
    ]


async def load(console: Console, access: Access, flow: Flow, lang: str) -> MissedView:
    """The flow's answers not understood in the window; an audit row when words are shown."""
    now = console.clock()
    tz = (await reader_config(console, access)).office.tz  # days as the office counts them
    since = now - timedelta(days=WINDOW_DAYS)
    office = office_of(access)  # one office's families' answers only
    day = since.astimezone(tz).date().isoformat()
    counts = await console.store.missed.counts(flow.id, day, office_id=office)
    kept = await console.store.missed.words(flow.id, since, WORDS_READ, office_id=office)
    rows = questions_of(flow, lang)
    known = {node for node, _ in rows}
    # A question counted under an older version of the flow, removed since.
    rows += [(node, "") for node in sorted(set(counts) | set(kept)) if node not in known]
    questions = tuple(
        MissedQuestion(node, text, counts.get(node, MissedCount()), grouped(kept.get(node, ())))
        for node, text in rows
    )
    shown = sum(len(q.words) for q in questions)
    if shown:
        await console.store.audit.record(
            AuditEntry(
                f"staff:{access.member.id}",
                "missed_words_read",
                f"flow:{flow.id}",
                f"{shown} typed answer(s) not understood shown on the flow page",
            )
        )
    retention = console.office.config.retention
    return MissedView(questions, WINDOW_DAYS, retention.first_contact_days)
