"""The counsellor's side of a hand-off on Telegram: case commands, take presses, relays.

Commands (Indonesian first, English aliases): `/antrian` (`/queue`), `/ambil KODE`
(`/take`), `/kasus KODE` (`/case`), `/catatan TEKS` (`/note`), `/rujuk KODE`
(`/refer`), `/lepas` (`/release`), `/tutup KODE_HASIL` (`/close`). Anything else a
counsellor sends goes to the family of the case it is meant for: the case of the
message it replies to, else the case chosen with `/kasus`, else the only case
they hold; with several and no choice, they are asked which.
"""

from __future__ import annotations

import logging

from bot.alert_digest import TAKE_PREFIX
from bot.handoff import COPYABLE, Handoff
from bot.turns import PRIORITY_ROUTINE, Reply, TurnPlan
from flows.state import SessionState
from storage.handoff.records import LiveCase, Transition
from storage.handoff.schema import OUTCOMES, REFERRALS
from storage.records import InboxRow, StaffMember
from storage.store import Store

__all__ = ["HandoffDesk", "is_take_press"]

log = logging.getLogger(__name__)

QUEUE = frozenset({"antrian", "queue"})
TAKE = frozenset({"ambil", "take"})
CASE = frozenset({"kasus", "case"})
NOTE = frozenset({"catatan", "note"})
REFER = frozenset({"rujuk", "refer"})
RELEASE = frozenset({"lepas", "release"})
CLOSE = frozenset({"tutup", "close"})
QUEUE_LINES = 15


def is_take_press(row: InboxRow) -> bool:
    return row.kind == "choice" and row.text.startswith(TAKE_PREFIX)


def split_command(text: str) -> tuple[str, str]:
    """`/rujuk@bot polisi` -> ("rujuk", "polisi"); ("", text) when not a command."""
    if not text.startswith("/"):
        return "", text
    head, _, rest = text[1:].partition(" ")
    return head.split("@", 1)[0].lower(), rest.strip()


class HandoffDesk:
    """Plans a linked staff member's case commands and relays; None for other messages."""

    def __init__(self, store: Store, handoff: Handoff) -> None:
        self._store = store
        self._handoff = handoff

    async def plan(
        self, row: InboxRow, member: StaffMember, keep: SessionState
    ) -> TurnPlan | None:
        text = row.text.strip() if row.kind == "text" else ""
        if is_take_press(row):
            case_id = row.text.removeprefix(TAKE_PREFIX)
            if not case_id.isdigit():
                return self._reply(keep, self._handoff.text("handoff.not_found"))
            return await self._take(keep, member, int(case_id))
        command, arg = split_command(text)
        if command in QUEUE:
            return self._reply(keep, await self._queue(member))
        if command in TAKE:
            case = await self._store.handoff.by_code(arg)
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
        result = await self._handoff.take(member.id, case_id)
        if result.done and result.case is not None:
            # The confirmation goes with the case's ref (so replies to it route there).
            return TurnPlan(state=keep, replies=(), priority=PRIORITY_ROUTINE)
        return self._reply(keep, await self._refusal(result))

    async def _queue(self, member: StaffMember) -> str:
        waiting = await self._handoff.queue(QUEUE_LINES)
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
        case = await self._store.handoff.by_code(code) if code else None
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
            return TurnPlan(
                state=plan.state, replies=plan.replies, priority=plan.priority, forget_text=True
            ) if result.done else self._reply(keep, await self._refusal(result))
        if command in REFER:
            service = arg.lower().replace(" ", "_")
            if service not in REFERRALS:
                codes = ", ".join(REFERRALS)
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
        outcome = arg.lower().replace(" ", "_")
        if outcome not in OUTCOMES:
            codes = ", ".join(OUTCOMES)
            return self._reply(keep, self._handoff.text("handoff.bad_outcome", codes=codes))
        result = await self._handoff.close(member.id, case.id, outcome)
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
