"""The safety hand-off: one class the staff desk, the escalation job and the web console share.

`Handoff` methods take the acting staff member's id and return a
`storage.handoff.records.Transition` (`outcome` is `done`, `already`, `held`,
`closed`, `not_yours` or `not_found`; `case` is the case as it is now). Each
change is one transaction with its `case_events` row and the messages it causes:

    take(staff_id, case_id)                 owner; every alert edited to say who took it;
                                            the family told a counsellor is reading
    release(staff_id, case_id)              back to the queue (alerts start again)
    close(staff_id, case_id, outcome, supervisor=False, ask_rating=None)
                                            outcome code (storage.handoff.schema.OUTCOMES);
                                            the family thanked, and offered the feedback
                                            flow unless urgent (or `ask_rating` says)
    relay_out(staff_id, case_id, text, source=...)
                                            the owner's words to the family (no name, no number)
    copy_out(staff_id, case_id, inbox_id, source=...)
                                            the owner's photo/voice note copied to the family
    note(staff_id, case_id, text)           a private note, sealed under the family's key
    refer(staff_id, case_id, service)       an active referral code (storage.handoff.referrals)
    queue() / held_by(staff_id) / figures(since, until)

`family_turn` is the pipeline's hook: while a counsellor holds a family's case
every message of theirs (already crisis-checked) goes to the owner and the bot's
flows stay silent; an urgent one is marked, sent at top priority, answered with
the hotlines, and starts the owner's answer clock (bot/handoff/escalation.py).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo

from bot.config import Config
from bot.console.i18n import LANGUAGES, ConsoleTexts
from bot.core.texts import BotTexts
from bot.core.turns import (
    PRIORITY_ALERT,
    PRIORITY_ROUTINE,
    PRIORITY_URGENT,
    Reply,
    TurnPlan,
    empty_state,
)
from bot.flowhost.ratings import with_ticket
from bot.flowhost.shelves import FlowShelves
from bot.handoff.kinds import crisis_kinds
from bot.handoff.media import MediaOutcome
from bot.offices.profiles import OfficeConfigs
from bot.safety import Assessment, Level
from flows.engine import step
from flows.exchange import ChannelCaps, Context, Input, Message
from flows.library import FlowLibrary
from flows.matching import match_command
from flows.state import SessionState
from storage.handoff.records import (
    CASE_REF,
    AlertRef,
    HandoffFigures,
    LiveCase,
    RelayIn,
    Transition,
)
from storage.records import CaseOpen, InboxRow, NewOutbound, OutboxRef
from storage.store import Store

__all__ = ["COPYABLE", "FEEDBACK_FLOW", "Handoff", "case_ref"]

log = logging.getLogger(__name__)

FEEDBACK_FLOW = "feedback"
# What Telegram can copy from one chat to another without the bot keeping anything.
COPYABLE = frozenset({"photo", "voice", "video", "file", "sticker", "location", "contact"})


def case_ref(case_id: int, action: str, arg: str = "") -> OutboxRef:
    """The ref of a row about a case (`case:12:edit:40`): the sender's gate and delivery
    for its kind read it (bot.handoff.delivery), and a counsellor's reply to such a
    message is routed to that case."""
    return OutboxRef(CASE_REF, case_id, action, arg)


def minutes(since: datetime, now: datetime) -> str:
    return str(max(0, int((now - since) / timedelta(minutes=1))))


class Handoff:
    """Case changes for counsellors (Telegram desk and web console) and the pipeline."""

    def __init__(
        self,
        store: Store,
        texts: BotTexts,
        config: Config,
        library: FlowLibrary,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._texts = texts
        self._config = config
        self._library = library
        self._clock = clock
        self.staff_language = config.languages[0]
        self._names = ConsoleTexts.load()  # categories and kinds by name, as the console says
        self._offices = OfficeConfigs(store, config)  # the hotlines of the case's office
        self._shelves: FlowShelves | None = None

    def use_library(self, library: FlowLibrary) -> None:
        """Offers the feedback flow from `library` from now on (a publish in the console)."""
        self._library = library

    async def office_config(self, office_id: int) -> Config:
        """The configuration in the words of one office (its name, hours, hotlines)."""
        return await self._offices.for_office(office_id)

    def use_shelves(self, shelves: FlowShelves) -> None:
        """Offers each family the feedback flow of its own office (several offices)."""
        self._shelves = shelves

    def text(self, key: str, **values: str) -> str:
        """A staff-facing text in the office's first language."""
        return self._texts.get(key, self.staff_language, **values)

    def now(self) -> datetime:
        return self._clock()

    def family_text(self, key: str, language: str, **values: str) -> str:
        """A family-facing text in the family's language."""
        return self._texts.get(key, language, **values)

    @property
    def texts(self) -> BotTexts:
        return self._texts

    def left_warning(self, case: LiveCase, tz: tzinfo | None = None) -> str:
        """What a counsellor is told of a family who left in a hurry (a quick exit), at
        the case's office's time (`tz`; the default office's when left out)."""
        when = case.left_at or self._clock()
        local = when.astimezone(self._config.office.tz if tz is None else tz)
        return self.text("handoff.family_left", code=case.code, time=local.strftime("%H.%M"))

    def category_words(self, case: LiveCase) -> str:
        """The case's category by its name, with its kinds of danger when the crisis check
        named them ("Krisis (Bunuh diri)"), in the words the console uses: never a code a
        counsellor must look up on a phone at night, and never the family's words."""
        lang = self.staff_language
        name = _named(self._names, f"case_category_{case.category}", case.category, lang)
        kinds = [_named(self._names, f"crisis_{k}", k, lang) for k in case.crisis.split(",") if k]
        return f"{name} ({', '.join(kinds)})" if kinds else name

    def describe(self, case: LiveCase) -> dict[str, str]:
        """The placeholders a staff text may use: codes and times, nothing identifying."""
        return {
            "code": case.code,
            "category": self.category_words(case),
            "urgency_label": self.text(f"handoff.urgency.{case.urgency}"),
            "waiting": minutes(case.waiting_since, self._clock()),
        }

    # --- reading ------------------------------------------------------------

    async def queue(self, limit: int = 100, *, office_id: int | None = None) -> list[LiveCase]:
        return await self._store.handoff.queue(limit, office_id=office_id)

    async def held_by(self, staff_id: int) -> list[LiveCase]:
        return await self._store.handoff.held_by(staff_id)

    async def figures(
        self, since: datetime, until: datetime, *, office_id: int | None = None
    ) -> HandoffFigures:
        """Time to first human reply by urgency; urgent cases past the target (realert time)."""
        target = self._config.escalation.realert_minutes * 60
        return await self._store.handoff.figures(
            since, until, target_seconds=target, office_id=office_id
        )

    # --- changes --------------------------------------------------------------

    async def take(self, staff_id: int, case_id: int) -> Transition:
        now = self._clock()
        member = await self._store.staff.get(staff_id)
        name = member.display_name if member is not None else str(staff_id)
        family = await self._family(case_id)
        taker = None
        # The case is of the taker's office: its time for a "family left" warning.
        tz = None if member is None else (await self.office_config(member.office_id)).office.tz
        if member is not None and member.contact_id is not None:
            contact = await self._store.contacts.get(member.contact_id)
            taker = None if contact is None else (contact.id, contact.channel)

        def build(case: LiveCase, alerts: Sequence[AlertRef]) -> list[NewOutbound]:
            rows = self._edits(
                case, alerts, self.text("handoff.alert_taken", code=case.code, name=name)
            )
            if taker is not None:
                text = self.text("handoff.taken", **self.describe(case))
                if case.left_at is not None:
                    text += "\n\n" + self.left_warning(case, tz)
                rows.append(self._row(taker[0], taker[1], text, case, "notice", staff=True))
            if family is not None and case.left_at is None:
                channel, language = family
                text = self._texts.get("handoff.family_connected", language)
                rows.append(self._row(case.contact_id, channel, text, case, "notice"))
            return rows

        result = await self._store.handoff.take(case_id, staff_id, now, build)
        log.info("case %s: take by staff %s -> %s", case_id, staff_id, result.outcome)
        return result

    async def release(self, staff_id: int, case_id: int) -> Transition:
        family = await self._family(case_id)

        def build(case: LiveCase, alerts: Sequence[AlertRef]) -> list[NewOutbound]:
            if family is None or case.left_at is not None:
                return []
            channel, language = family
            text = self._texts.get("handoff.family_released", language)
            return [self._row(case.contact_id, channel, text, case, "notice")]

        result = await self._store.handoff.release(case_id, staff_id, self._clock(), build)
        log.info("case %s: release by staff %s -> %s", case_id, staff_id, result.outcome)
        return result

    async def close(
        self,
        staff_id: int,
        case_id: int,
        outcome: str,
        *,
        supervisor: bool = False,
        ask_rating: bool | None = None,
    ) -> Transition:
        """Closes with an outcome; the family is thanked and, if `ask_rating`, offered the
        feedback flow (its 1–5 question). By default an urgent case's family is not asked:
        rating a crisis is the counsellor's call, made by ticking a box in the console."""
        now = self._clock()
        case = await self._store.handoff.get(case_id)
        if case is None:
            return Transition("not_found")
        family = await self._family(case_id)
        if ask_rating is None:
            ask_rating = case.urgency != "darurat"
        state, questions = await self._feedback(case.contact_id, now) if ask_rating else (None, [])

        def build(case: LiveCase, alerts: Sequence[AlertRef]) -> list[NewOutbound]:
            rows = self._edits(case, alerts, self.text("handoff.alert_closed", code=case.code))
            if family is not None and case.left_at is None:
                channel, language = family
                rows.append(
                    self._row(
                        case.contact_id,
                        channel,
                        self._texts.get("handoff.family_closed", language),
                        case,
                        "notice",
                    )
                )
                for reply in questions:
                    rows.append(
                        NewOutbound(
                            case.contact_id,
                            channel,
                            reply.text,
                            reply.options,
                            PRIORITY_ROUTINE,
                            now,
                        )
                    )
            return rows

        result = await self._store.handoff.close(
            case_id,
            staff_id,
            outcome,
            now,
            build,
            # The feedback flow's rating counts once, for this case's codes (bot.flowhost.ratings).
            session_state=lambda closed: (
                None
                if state is None or closed.left_at is not None  # never asked: nothing to answer
                else with_ticket(state, closed.category, closed.urgency).to_json()
            ),
            any_owner=supervisor,
        )
        log.info("case %s: close by staff %s -> %s", case_id, staff_id, result.outcome)
        return result

    async def relay_out(self, staff_id: int, case_id: int, text: str, *, source: str) -> Transition:
        """The owner's words to the family, as the bot's own message."""
        case = await self._store.handoff.get(case_id)
        family = await self._family(case_id)
        if case is None or family is None:
            return Transition("not_found")
        row = self._row(case.contact_id, family[0], text, case, "relay")
        return await self._store.handoff.relay(
            case_id, staff_id, f"out:{source}", self._clock(), [row]
        )

    async def copy_out(
        self, staff_id: int, case_id: int, inbox_id: int, *, source: str
    ) -> Transition:
        """The owner's photo or voice note copied into the family's chat (nothing kept)."""
        case = await self._store.handoff.get(case_id)
        family = await self._family(case_id)
        if case is None or family is None:
            return Transition("not_found")
        row = self._row(case.contact_id, family[0], "", case, "copy", arg=str(inbox_id))
        row = NewOutbound(row.contact_id, row.channel, "…", (), row.priority, row.due_at, row.ref)
        return await self._store.handoff.relay(
            case_id, staff_id, f"out:{source}", self._clock(), [row]
        )

    async def note(self, staff_id: int, case_id: int, text: str) -> Transition:
        return await self._store.handoff.note(case_id, staff_id, text, self._clock())

    async def refer(self, staff_id: int, case_id: int, service: str) -> Transition:
        return await self._store.handoff.refer(case_id, staff_id, service, self._clock())

    # --- the pipeline's hook --------------------------------------------------

    def is_quick_exit(self, text: str) -> bool:
        """Whether a family's message is the quick-exit command (a whole message, like
        `keluar`): the flows carry it out even while a counsellor holds the case."""
        command = match_command(text, self._library.globals.commands)
        if command is None:
            return False
        flow_id, _, node_id = command.goto.partition(".")
        if not self._library.has_flow(flow_id):
            return False
        node = self._library.flow(flow_id).node(node_id)
        return node is not None and any(call.name == "quick_exit" for call in node.effects)

    async def left_notice(self, row: InboxRow) -> RelayIn | None:
        """The owner's warning that the family just left in a hurry (with their quick exit)."""
        case = await self._store.handoff.live_for(row.contact_id)
        if case is None or case.status != "taken" or case.owner_staff_id is None:
            return None
        owner = await self._store.staff.get(case.owner_staff_id)
        if owner is None or owner.contact_id is None or not owner.active:
            return None  # a console-only owner sees it on the case page
        owner_contact = await self._store.contacts.get(owner.contact_id)
        if owner_contact is None:
            return None
        tz = (await self.office_config(case.office_id)).office.tz
        text = self.left_warning(dataclasses.replace(case, left_at=row.received_at), tz)
        notice = self._owner_row(
            owner.contact_id, owner_contact.channel, text, case, "relay", urgent=False
        )
        return RelayIn(case.id, f"in:{row.id}", (notice,), False)

    async def family_turn(
        self,
        row: InboxRow,
        state: SessionState | None,
        assessment: Assessment,
        media: MediaOutcome | None = None,
    ) -> tuple[TurnPlan, RelayIn] | None:
        """The turn of a family whose case a counsellor holds, and the relay it commits with
        (in the turn's own transaction); None when nobody holds it. `media`: what became of
        the photo or voice note the message carried (bot.handoff.media)."""
        case = await self._store.handoff.live_for(row.contact_id)
        if case is None or case.status != "taken" or case.owner_staff_id is None:
            return None
        owner = await self._store.staff.get(case.owner_staff_id)
        owner_contact = (
            None
            if owner is None or owner.contact_id is None or not owner.active
            else await self._store.contacts.get(owner.contact_id)
        )
        language = state.language if state is not None else self._config.languages[0]
        keep = state if state is not None else empty_state(language)
        urgent = assessment.level is Level.URGENT
        values = {"code": case.code}
        if owner is None or owner.contact_id is None or owner_contact is None:
            # The owner works from the console only: the message is in the case's
            # transcript there. The bot still never talks over the counsellor, and an
            # urgent message starts the owner's answer clock all the same.
            rows = []
        elif row.kind in ("text", "start", "choice"):
            key = "handoff.relayed_in_urgent" if urgent else "handoff.relayed_in"
            rows = [
                self._owner_row(
                    owner.contact_id,
                    owner_contact.channel,
                    self.text(key, text=row.text, **values),
                    case,
                    "relay",
                    urgent,
                )
            ]
        else:
            rows = [
                self._media_row(row, case, owner.contact_id, owner_contact.channel, urgent, media)
            ]
        relay = RelayIn(case.id, f"in:{row.id}", tuple(rows), urgent)
        log.info("case %s: message %s relayed to its owner (%s)", case.id, row.id, row.kind)
        if not urgent:
            # A file too large, or of a type not taken: the family is asked kindly for words.
            asked = (
                (Reply(self.family_text("handoff.media_too_large", language)),)
                if media is not None and media.refused
                else ()
            )
            return TurnPlan(state=keep, replies=asked, priority=PRIORITY_ROUTINE), relay
        office = await self._offices.for_office(case.office_id)
        text = self._texts.get("handoff.family_urgent", language, **office.context_values(language))
        plan = TurnPlan(
            state=keep,
            replies=(Reply(text),),
            priority=PRIORITY_URGENT,
            cases=(
                CaseOpen(
                    category=case.category, urgency="darurat", crisis=crisis_kinds(assessment)
                ),
            ),
        )
        return plan, relay

    # --- helpers ------------------------------------------------------------

    def _media_row(
        self,
        row: InboxRow,
        case: LiveCase,
        owner_id: int,
        owner_channel: str,
        urgent: bool,
        media: MediaOutcome | None,
    ) -> NewOutbound:
        """What the owner receives of a family's media: the file itself (kept, uploaded by
        bot.handoff.delivery), a copy between chats of one channel, or a note saying why not."""
        values = {"code": case.code, "kind": self.text(f"handoff.media_kind.{row.kind}")}
        if media is not None and media.media_id is not None:
            text = self.text("handoff.media_in", **values)
            arg = str(media.media_id)
            return self._owner_row(owner_id, owner_channel, text, case, "media", urgent, arg)
        if media is not None and media.refused:
            text = self.text("handoff.media_refused", **values)
            return self._owner_row(owner_id, owner_channel, text, case, "relay", urgent)
        if row.kind in COPYABLE and row.channel == owner_channel:
            text = self.text("handoff.media_in", **values)
            return self._owner_row(
                owner_id, owner_channel, text, case, "copy", urgent, arg=str(row.id)
            )
        key = "handoff.media_elsewhere" if media is None else "handoff.media_failed"
        return self._owner_row(
            owner_id, owner_channel, self.text(key, **values), case, "relay", urgent
        )

    async def _family(self, case_id: int) -> tuple[str, str] | None:
        """The family's channel and language, for what is sent to them."""
        case = await self._store.handoff.get(case_id)
        if case is None:
            return None
        contact = await self._store.contacts.get(case.contact_id)
        if contact is None:
            return None
        return contact.channel, contact.language or self._config.languages[0]

    async def _feedback(
        self, contact_id: int, now: datetime
    ) -> tuple[SessionState | None, list[Reply]]:
        """The family's session with the feedback flow started, and its first messages."""
        library, config = self._library, await self._offices.for_contact(contact_id)
        if self._shelves is not None and self._shelves.several:
            office_id = await self._store.offices.office_of_contact(contact_id)
            shelf = await self._shelves.ensure(office_id or 1)
            library = library if shelf is None else shelf.library
        if not library.has_flow(FEEDBACK_FLOW):
            return None, []
        raw = await self._store.sessions.get(contact_id)
        try:
            state = None if raw is None else SessionState.from_json(raw)
        except Exception:
            state = None
        language = state.language if state is not None else self._config.languages[0]
        ctx = Context(
            now=now,
            channel=ChannelCaps(buttons=True, max_choices=10),
            values=config.context_values(language),
            default_language=self._config.languages[0],
        )
        turn = step(library, state, Input(kind="interrupt", flow=FEEDBACK_FLOW), ctx)
        replies = [
            Reply(o.text, tuple((c.value, c.label) for c in o.options))
            for o in turn.outputs
            if isinstance(o, Message)
        ]
        return turn.state, replies

    def _edits(self, case: LiveCase, alerts: Sequence[AlertRef], text: str) -> list[NewOutbound]:
        now = self._clock()
        return [
            NewOutbound(
                alert.contact_id,
                alert.channel,
                text,
                (),
                PRIORITY_ALERT,  # to staff, like the alerts they change
                now,
                case_ref(case.id, "edit", str(alert.outbox_id)),
            )
            for alert in alerts
        ]

    def _row(
        self,
        contact_id: int,
        channel: str,
        text: str,
        case: LiveCase,
        action: str,
        *,
        arg: str = "",
        staff: bool = False,
    ) -> NewOutbound:
        urgent = PRIORITY_ALERT if staff else PRIORITY_URGENT
        priority = urgent if case.urgency == "darurat" else PRIORITY_ROUTINE
        ref = case_ref(case.id, action, arg)
        return NewOutbound(contact_id, channel, text, (), priority, self._clock(), ref)

    def _owner_row(
        self,
        contact_id: int,
        channel: str,
        text: str,
        case: LiveCase,
        action: str,
        urgent: bool,
        arg: str = "",
    ) -> NewOutbound:
        # To the counsellor holding the case: an urgent word from the family goes with the
        # alerts, not behind them (bot.core.turns: alerts go before families' crisis replies).
        priority = PRIORITY_ALERT if urgent or case.urgency == "darurat" else PRIORITY_ROUTINE
        ref = case_ref(case.id, action, arg)
        return NewOutbound(contact_id, channel, text, (), priority, self._clock(), ref)


def _named(texts: ConsoleTexts, key: str, code: str, lang: str) -> str:
    """A code's name in `lang` (the office's first language may be one the console lacks)."""
    if key not in texts.table:
        return code
    return texts.get(key, lang if lang in LANGUAGES else LANGUAGES[0])
