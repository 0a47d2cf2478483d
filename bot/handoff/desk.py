"""The counsellor desk: what counsellors' own messages to the bot lead to.

The pipeline asks the desk first about every stored message. `/link CODE`, from
any chat, links that chat to the staff member the one-time code was issued for;
a wrong, expired or spent code gets one neutral answer that says nothing about
whether it ever existed. Every message from a linked staff chat is the desk's:
it never reaches the family flows, the crisis check or a family's case. Anyone
else's message (a family's, or an unlinked account trying a counsellor command)
is left to the family flows, which treat it as ordinary text.

`CounsellorDesk` answers `/link`, `/bantuan` (`/help`), `/jadwal` (today's and
tomorrow's appointments, by booking code, mode and time, with came / did not come
buttons once an appointment's time has come) and `/hadir`, `/tidakhadir`
(bot.booking.attendance), and hands the rest to
`CaseCommands`: `/antrian` (`/queue`), `/ambil KODE` (`/take`), `/kasus KODE`
(`/case`), `/catatan TEKS` (`/note`), `/rujuk KODE` (`/refer`), `/lepas`
(`/release`), `/tutup KODE_HASIL [nilai]` (`/close`), and take presses. Anything else a
counsellor sends goes to the family of the case it is meant for: the case of the
message it replies to, else the case chosen with `/kasus`, else the only case
they hold; with several and no choice, they are asked which.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.booking.attendance import AttendanceDesk, attendance_buttons
from bot.booking.schedule import format_schedule, schedule_for
from bot.config import Config
from bot.core.texts import BotTexts
from bot.core.turns import PRIORITY_ROUTINE, Reply, TurnPlan, empty_state
from bot.digits import digits
from bot.handoff.alerts import TAKE_PREFIX
from bot.handoff.service import COPYABLE, Handoff
from bot.offices.linking import own_bot_elsewhere
from bot.offices.profiles import OfficeConfigs
from flows.state import SessionState
from storage.handoff.records import LiveCase, Transition
from storage.handoff.schema import OUTCOMES
from storage.records import InboxRow, StaffMember
from storage.store import Store

__all__ = ["LINK_ATTEMPTS_PER_HOUR", "CaseCommands", "CounsellorDesk", "is_link", "is_take_press"]

log = logging.getLogger(__name__)

QUEUE = frozenset({"antrian", "queue"})
TAKE = frozenset({"ambil", "take"})
CASE = frozenset({"kasus", "case"})
NOTE = frozenset({"catatan", "note"})
REFER = frozenset({"rujuk", "refer"})
RELEASE = frozenset({"lepas", "release"})
CLOSE = frozenset({"tutup", "close"})
RATE = frozenset({"nilai", "rate", "rating"})
QUEUE_LINES = 15


def is_take_press(row: InboxRow) -> bool:
    """A counsellor's "Ambil kasus" button under an alert."""
    return row.kind == "choice" and row.text.startswith(TAKE_PREFIX)


def is_link(row: InboxRow) -> bool:
    """A `/link CODE` command, by which a staff member links this chat."""
    return row.kind == "text" and _LINK.fullmatch(row.text.strip()) is not None


def split_command(text: str) -> tuple[str, str]:
    """`/rujuk@bot polisi` -> ("rujuk", "polisi"); ("", text) when not a command."""
    if not text.startswith("/"):
        return "", text
    head, _, rest = text[1:].partition(" ")
    return head.split("@", 1)[0].lower(), rest.strip()


class CaseCommands:
    """Plans a linked staff member's case commands and relays; None for other messages."""

    def __init__(self, store: Store, handoff: Handoff) -> None:
        self._store = store
        self._handoff = handoff

    async def plan(self, row: InboxRow, member: StaffMember, keep: SessionState) -> TurnPlan | None:
        text = row.text.strip() if row.kind == "text" else ""
        if is_take_press(row):
            case_id = row.text.removeprefix(TAKE_PREFIX)
            if not digits(case_id):
                return self._reply(keep, self._handoff.text("handoff.not_found"))
            return await self._take(keep, member, int(case_id))
        command, arg = split_command(text)
        if command in QUEUE:
            return self._reply(keep, await self._queue(member))
        if command in TAKE:
            case = _in_office(await self._store.handoff.by_code(arg), member)
            if case is None:
                return self._reply(keep, self._handoff.text("handoff.not_found"))
            return await self._take(keep, member, case.id)
        if command in CASE:
            return await self._focus(keep, member, arg)
        if command in NOTE | REFER | RELEASE | CLOSE:
            return await self._case_command(row, keep, member, command, arg)
        if command:
            return None  # the staff desk's own commands, help, or an unknown command
        if row.kind == "start":
            return None
        return await self._relay(row, keep, member)

    async def _take(self, keep: SessionState, member: StaffMember, case_id: int) -> TurnPlan:
        if _in_office(await self._store.handoff.get(case_id), member) is None:
            return self._reply(keep, self._handoff.text("handoff.not_found"))
        result = await self._handoff.take(member.id, case_id)
        if result.done and result.case is not None:
            # The confirmation goes with the case's ref (so replies to it route there).
            return TurnPlan(state=keep, replies=(), priority=PRIORITY_ROUTINE)
        return self._reply(keep, await self._refusal(result))

    async def _queue(self, member: StaffMember) -> str:
        waiting = await self._handoff.queue(QUEUE_LINES, office_id=member.office_id)
        lines = [self._handoff.text("handoff.queue_head")] if waiting else []
        for case in waiting:
            lines.append(self._handoff.text("handoff.queue_line", **self._handoff.describe(case)))
        if not waiting:
            lines.append(self._handoff.text("handoff.queue_empty"))
        held = await self._handoff.held_by(member.id)
        if held:
            codes = ", ".join(c.code for c in held)
            lines.append("\n" + self._handoff.text("handoff.held_head", codes=codes))
        return "\n".join(lines)

    async def _focus(self, keep: SessionState, member: StaffMember, code: str) -> TurnPlan:
        case = _in_office(await self._store.handoff.by_code(code), member) if code else None
        if case is None:
            return self._reply(keep, self._handoff.text("handoff.not_found"))
        if case.status != "taken" or case.owner_staff_id != member.id:
            return self._reply(keep, self._handoff.text("handoff.not_yours", code=case.code))
        await self._store.handoff.focus(member.id, case.id, self._handoff.now())
        return self._reply(keep, self._handoff.text("handoff.focused", code=case.code))

    async def _case_command(
        self, row: InboxRow, keep: SessionState, member: StaffMember, command: str, arg: str
    ) -> TurnPlan:
        case = await self._target(row, member)
        if case is None:
            return self._reply(keep, await self._which(member))
        code = case.code
        if command in NOTE:
            if not arg:
                return self._reply(keep, self._handoff.text("handoff.note_empty"))
            result = await self._handoff.note(member.id, case.id, arg)
            # The note is kept sealed with the case; the message's own words are not.
            plan = self._reply(keep, self._handoff.text("handoff.noted", code=code))
            return (
                TurnPlan(
                    state=plan.state, replies=plan.replies, priority=plan.priority, forget_text=True
                )
                if result.done
                else self._reply(keep, await self._refusal(result))
            )
        if command in REFER:
            service = arg.lower().replace(" ", "_")
            offered = [d.code for d in await self._store.referrals.list(active_only=True)]
            if service not in offered:
                codes = ", ".join(offered)
                return self._reply(keep, self._handoff.text("handoff.bad_referral", codes=codes))
            result = await self._handoff.refer(member.id, case.id, service)
            if not result.done:
                return self._reply(keep, await self._refusal(result))
            return self._reply(
                keep, self._handoff.text("handoff.referred", code=code, service=service)
            )
        if command in RELEASE:
            result = await self._handoff.release(member.id, case.id)
            if not result.done:
                return self._reply(keep, await self._refusal(result))
            return self._reply(keep, self._handoff.text("handoff.released", code=code))
        words = arg.lower().split()
        # `/tutup aman nilai`: the family is asked for the 1–5 rating after all (by default
        # not after an urgent case).
        ask = True if words and words[-1] in RATE else None
        outcome = "_".join(words[:-1] if ask else words)
        if outcome not in OUTCOMES:
            codes = ", ".join(OUTCOMES)
            return self._reply(keep, self._handoff.text("handoff.bad_outcome", codes=codes))
        result = await self._handoff.close(member.id, case.id, outcome, ask_rating=ask)
        if not result.done:
            return self._reply(keep, await self._refusal(result))
        return self._reply(keep, self._handoff.text("handoff.closed", code=code, outcome=outcome))

    async def _relay(
        self, row: InboxRow, keep: SessionState, member: StaffMember
    ) -> TurnPlan | None:
        if not await self._handoff.held_by(member.id):
            return None  # no case held: the staff desk answers as before
        case = await self._target(row, member)
        if case is None:
            return self._reply(keep, await self._which(member))
        if row.kind == "text" and row.transport_id.endswith(":caption"):
            # A caption travels with the copied media itself.
            return TurnPlan(state=keep, replies=(), priority=PRIORITY_ROUTINE)
        if row.kind in ("text", "choice"):
            result = await self._handoff.relay_out(member.id, case.id, row.text, source=str(row.id))
        elif row.kind in COPYABLE:
            family = await self._store.contacts.get(case.contact_id)
            if family is None or family.channel != row.channel:
                return self._reply(
                    keep, self._handoff.text("handoff.media_not_forwarded", code=case.code)
                )
            result = await self._handoff.copy_out(member.id, case.id, row.id, source=str(row.id))
        else:
            return self._reply(
                keep, self._handoff.text("handoff.media_not_forwarded", code=case.code)
            )
        if result.done or result.outcome == "already":
            return TurnPlan(state=keep, replies=(), priority=PRIORITY_ROUTINE)
        if result.outcome == "family_left":
            return self._reply(
                keep, self._handoff.text("handoff.family_left_not_sent", code=case.code)
            )
        return self._reply(keep, self._handoff.text("handoff.not_delivered", code=case.code))

    async def _target(self, row: InboxRow, member: StaffMember) -> LiveCase | None:
        """The held case a message is for: replied-to, chosen, or the only one held."""
        held = await self._handoff.held_by(member.id)
        if row.reply_to is not None and member.contact_id is not None:
            # A case's own message, or an alert digest: the one of its cases they hold.
            about = await self._store.handoff.cases_of_message(member.contact_id, row.reply_to)
            mine = [case for case in held if case.id in about]
            if len(mine) == 1:
                return mine[0]
            if about:
                # A digest listing several of their cases (or none they hold): asking
                # which case is safer than guessing a family for these words.
                return None
        focused = await self._store.handoff.focused(member.id)
        for case in held:
            if case.id == focused:
                return case
        return held[0] if len(held) == 1 else None

    async def _which(self, member: StaffMember) -> str:
        held = await self._handoff.held_by(member.id)
        if not held:
            return self._handoff.text("handoff.no_case")
        return self._handoff.text("handoff.pick_case", codes=", ".join(c.code for c in held))

    async def _refusal(self, result: Transition) -> str:
        case = result.case
        if case is None or result.outcome == "not_found":
            return self._handoff.text("handoff.not_found")
        if result.outcome == "closed":
            return self._handoff.text("handoff.case_closed", code=case.code)
        if result.outcome == "already":
            return self._handoff.text("handoff.already_yours", code=case.code)
        if result.outcome == "held" and case.owner_staff_id is not None:
            owner = await self._store.staff.get(case.owner_staff_id)
            name = owner.display_name if owner is not None else "-"
            return self._handoff.text("handoff.held_by_other", code=case.code, name=name)
        return self._handoff.text("handoff.not_yours", code=case.code)

    @staticmethod
    def _reply(keep: SessionState, text: str) -> TurnPlan:
        return TurnPlan(state=keep, replies=(Reply(text),), priority=PRIORITY_ROUTINE)


_LINK = re.compile(r"/link(?:@\w+)?(?:\s+(?P<code>.*))?", re.IGNORECASE | re.DOTALL)
_HELP = frozenset({"bantuan", "help", "start"})
_SCHEDULE = frozenset({"jadwal", "schedule"})
# A chat that keeps guessing codes is answered without checking for an hour.
LINK_ATTEMPTS_PER_HOUR = 10


class CounsellorDesk:
    """Plans the reply to `/link` and to anything a linked staff member sends
    (the pipeline reaches it through `handlers.StaffDesk`)."""

    def __init__(
        self,
        store: Store,
        texts: BotTexts,
        config: Config,
        clock: Callable[[], datetime],
        handoff: CaseCommands | None = None,
    ) -> None:
        self._handoff = handoff
        self._store = store
        self._texts = texts
        self._config = config
        self._clock = clock
        self._misses: dict[int, list[datetime]] = {}
        self._offices = OfficeConfigs(store, config)  # each counsellor's office's time zone
        self._attendance = AttendanceDesk(store, texts, config, clock, self._offices)

    async def plan(
        self, row: InboxRow, state: SessionState | None, *, staff: bool = True
    ) -> TurnPlan | None:
        """The whole turn for a desk message, or None to leave it to the family flows.

        `staff=False` says the caller already knows the sender is no active staff
        member's linked chat (read with the message), which spares a read.
        """
        language = state.language if state is not None else self._config.languages[0]
        keep = state if state is not None else empty_state(language)
        text = row.text.strip() if row.kind == "text" else ""
        link = _LINK.fullmatch(text)
        if link is not None:
            reply = await self._link(row, link.group("code") or "", language)
            # The code is spent either way; its words are not kept in the inbox.
            return TurnPlan(
                state=keep, replies=(reply,), priority=PRIORITY_ROUTINE, forget_text=True
            )
        member = await self._store.staff.by_contact(row.contact_id) if staff else None
        if member is None:
            if is_take_press(row):
                # Someone who is not (or no longer) linked staff learns nothing of the case.
                log.info("contact %s: a take-case press from an unlinked account", row.contact_id)
                return TurnPlan(
                    state=keep,
                    replies=(Reply(self._texts.get("handoff.take_refused", language)),),
                    priority=PRIORITY_ROUTINE,
                )
            return None
        attendance = await self._attendance.plan(row, member, keep)
        if attendance is not None:
            return attendance
        if self._handoff is not None:
            planned = await self._handoff.plan(row, member, keep)
            if planned is not None:
                return planned
        log.info("staff %s: message %s (%s) taken by the staff desk", member.id, row.id, row.kind)
        if _command(text) in _SCHEDULE:
            return TurnPlan(
                state=keep,
                replies=await self._schedule(member, language),
                priority=PRIORITY_ROUTINE,
            )
        if row.kind == "start" or _command(text) in _HELP:
            key = "staff.help"
        else:
            key = "staff.unknown"
        return TurnPlan(
            state=keep,
            replies=(Reply(self._texts.get(key, language)),),
            priority=PRIORITY_ROUTINE,
        )

    async def _schedule(self, member: StaffMember, language: str) -> tuple[Reply, ...]:
        """Today's and tomorrow's appointments: booking codes, modes and times only; then
        came / did not come buttons for those whose time has come (bot.booking.attendance).
        Days and times are the counsellor's office's (`[offices.<code>] timezone`)."""
        tz = (await self._offices.for_office(member.office_id)).office.tz
        now = self._clock()
        appointments = await schedule_for(self._store, member.id, tz=tz, now=now)
        text = format_schedule(appointments, tz=tz, now=now, language=language, texts=self._texts)
        buttons = attendance_buttons(appointments, now=now, texts=self._texts, language=language)
        if not buttons:
            return (Reply(text),)
        ask = self._texts.get("booking.attendance.ask", language)
        return (Reply(text), Reply(ask, buttons))

    async def _link(self, row: InboxRow, code: str, language: str) -> Reply:
        contact_id = row.contact_id
        now = self._clock()
        recent = [t for t in self._misses.get(contact_id, []) if now - t < timedelta(hours=1)]
        member = None
        if len(recent) < LINK_ATTEMPTS_PER_HOUR:
            member = await self._store.staff.redeem_link_code(code, contact_id, now)
        if member is None:
            recent.append(now)
            self._misses[contact_id] = recent
            log.info("contact %s: a link code was refused", contact_id)
            return Reply(self._texts.get("staff.link_refused", language))
        self._misses.pop(contact_id, None)
        log.info("staff %s linked to contact %s", member.id, contact_id)
        linked = self._texts.get("staff.linked", language, username=member.username)
        office = await own_bot_elsewhere(self._store, self._config, member, row.channel)
        if office is not None:  # their office has its own bot: bot.offices.linking
            note = self._texts.get("staff.linked_elsewhere", language, office=office)
            linked = f"{linked}\n\n{note}"
        return Reply(linked)


def _command(text: str) -> str:
    """`/bantuan@lk3_bot` or `bantuan` -> `bantuan`: the first word, lowercase."""
    words = text.removeprefix("/").split(maxsplit=1)
    return words[0].split("@", 1)[0].lower() if words else ""


def _in_office(case: LiveCase | None, member: StaffMember) -> LiveCase | None:
    """Another office's case is, to this counsellor, a code that does not exist."""
    return case if case is not None and case.office_id == member.office_id else None
