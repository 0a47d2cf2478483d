"""What the queue and case pages need beyond the console itself, and how they show it.

`CaseDesk` bundles the hand-off (every change to a case goes through
`bot.handoff.service.Handoff`, never around it), the flow library (to label triage
answers in the reader's language), the office time zone, the sender's wake-up
(a counsellor's reply leaves at once) and the live queue feed. The helpers turn
codes and times into words for a page; they never see what a family wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bot.console.i18n import ConsoleTexts
from bot.console.queue_feed import FeedSettings, QueueFeed
from bot.core.live import LiveChanges
from bot.handoff.service import Handoff
from flows.errors import FlowsError
from flows.library import FlowLibrary
from flows.state import SessionState
from storage.handoff.records import LiveCase
from storage.store import Store

__all__ = ["CaseDesk", "SrqAnswer", "Triage", "crisis_labels", "label", "triage_of", "waited"]

TRIAGE_FLOW = "triage"
SRQ_ITEMS = 20

FEED_LIMIT = 1000  # cases waiting, and cases held, read for the live queue


class CaseDesk:
    """The hand-off and its companions, as the console's case pages use them."""

    def __init__(
        self,
        store: Store,
        handoff: Handoff,
        *,
        library: Callable[[], FlowLibrary] | None = None,
        tz: tzinfo = UTC,
        wake_sender: Callable[[], None] = lambda: None,
        feed: FeedSettings | None = None,
    ) -> None:
        self.store = store
        self.handoff = handoff
        self._library = library
        self.tz = tz
        self.wake_sender = wake_sender
        # What other processes change, told by the database (PostgreSQL; bot.core.live).
        self.live = LiveChanges.of(store)
        self.feed = QueueFeed(self._load, feed, self.live)

    async def _load(self) -> tuple[list[LiveCase], list[LiveCase]]:
        # Every office's rows at once (each reader keeps its own: bot.console.scope), so
        # room for a province's: one office's cases must not be cut by another's.
        return (
            await self.handoff.queue(FEED_LIMIT),
            await self.store.console_cases.taken(FEED_LIMIT),
        )

    @property
    def library(self) -> FlowLibrary | None:
        """The flows as published now (an admin may publish while the console runs)."""
        return None if self._library is None else self._library()

    def changed(self) -> None:
        """After a change made here: send what it queued and refresh every open queue."""
        self.wake_sender()
        self.feed.wake()

    def local(self, at: datetime) -> str:
        """A time as the office reads it: `02/03/2026 16:05 WIT`."""
        return at.astimezone(self.tz).strftime("%d/%m/%Y %H:%M %Z").strip()


def label(texts: ConsoleTexts, prefix: str, code: str, lang: str) -> str:
    """A code's words (`urgency_darurat`), or the code itself when the texts lack it."""
    key = f"{prefix}_{code}"
    return texts.get(key, lang) if key in texts.table else code


def crisis_labels(texts: ConsoleTexts, crisis: str, lang: str) -> list[str]:
    """The names of a case's kinds of danger (`bot.handoff.kinds`), never the family's words."""
    return [label(texts, "crisis", code, lang) for code in crisis.split(",") if code]


def waited(since: datetime, now: datetime, texts: ConsoleTexts, lang: str) -> str:
    """How long since `since`, in words a glance can read: `7 mnt`, `2 j 05 mnt`, `3 hari`."""
    minutes = max(0, int((now - since) / timedelta(minutes=1)))
    if minutes < 60:
        return texts.get("q_wait_minutes", lang, m=minutes)
    if minutes < 48 * 60:
        return texts.get("q_wait_hours", lang, h=minutes // 60, m=f"{minutes % 60:02d}")
    return texts.get("q_wait_days", lang, d=minutes // (24 * 60))


@dataclass(frozen=True, slots=True)
class SrqAnswer:
    number: int
    question: str
    yes: bool


@dataclass(frozen=True, slots=True)
class Triage:
    """The triage answers a counsellor needs first; None where the family was not asked."""

    who: str | None
    since: str | None
    srq_score: int | None
    srq_answers: tuple[SrqAnswer, ...]
    srq_declined: bool


def _state(raw: str | None) -> SessionState | None:
    if raw is None:
        return None
    try:
        return SessionState.from_json(raw)
    except FlowsError:
        return None


def triage_of(raw_state: str | None, library: FlowLibrary | None, lang: str) -> Triage:
    """The triage summary from a family's session variables (labels from the triage flow)."""
    state = _state(raw_state)
    if state is None:
        return Triage(None, None, None, (), False)
    flow = None
    if library is not None and library.has_flow(TRIAGE_FLOW):
        flow = library.flow(TRIAGE_FLOW)

    def answer(var: str) -> str | None:
        value = state.var(var)
        if value is None:
            return None
        if flow is not None and library is not None:
            text = library.answer_label(flow, var, str(value))
            if text is not None:
                return text.get(lang)
        return str(value)

    questions: dict[str, str] = {}
    if flow is not None:
        for node in flow.nodes:
            if node.ask is not None and node.ask.var.startswith("srq_"):
                questions[node.ask.var] = node.ask.text.get(lang)
    answers = []
    for n in range(1, SRQ_ITEMS + 1):
        value = state.var(f"srq_{n}")
        if value is None:
            continue
        text = questions.get(f"srq_{n}", f"{n}/{SRQ_ITEMS}")
        answers.append(SrqAnswer(n, text, str(value).lower() in ("yes", "ya", "true", "1")))
    score = state.var("srq")
    return Triage(
        who=answer("who"),
        since=answer("since"),
        srq_score=int(score) if answers and isinstance(score, int) else None,
        srq_answers=tuple(answers),
        srq_declined=str(state.var("srq_wanted") or "").lower() == "no",
    )
