"""The staff desk: what counsellors' own messages to the bot lead to.

The pipeline asks the desk first about every stored message. `/link CODE`, from
any chat, links that chat to the staff member the one-time code was issued for;
a wrong, expired or spent code gets one neutral answer that says nothing about
whether it ever existed. Every message from a linked staff chat is the desk's:
it never reaches the family flows, the crisis check or a family's case. Anyone
else's message (a family's, or an unlinked account trying a counsellor command)
is left to the family flows, which treat it as ordinary text.

Commands now: `/link`, `/bantuan` (`/help`), `/jadwal` (today's and tomorrow's
appointments, by booking code, mode and time). The safety hand-off adds the case
commands here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.booking.schedule import format_schedule, schedule_for
from bot.config import Config
from bot.handoff_desk import HandoffDesk, is_take_press
from bot.texts import BotTexts
from bot.turns import PRIORITY_ROUTINE, Reply, TurnPlan, empty_state
from flows.state import SessionState
from storage.records import InboxRow
from storage.store import Store

__all__ = ["LINK_ATTEMPTS_PER_HOUR", "StaffDesk"]

log = logging.getLogger(__name__)

_LINK = re.compile(r"/link(?:@\w+)?(?:\s+(?P<code>.*))?", re.IGNORECASE | re.DOTALL)
_HELP = frozenset({"bantuan", "help", "start"})
_SCHEDULE = frozenset({"jadwal", "schedule"})
# A chat that keeps guessing codes is answered without checking for an hour.
LINK_ATTEMPTS_PER_HOUR = 10


class StaffDesk:
    """Plans the reply to `/link` and to anything a linked staff member sends."""

    def __init__(
        self,
        store: Store,
        texts: BotTexts,
        config: Config,
        clock: Callable[[], datetime],
        handoff: HandoffDesk | None = None,
    ) -> None:
        self._handoff = handoff
        self._store = store
        self._texts = texts
        self._config = config
        self._clock = clock
        self._misses: dict[int, list[datetime]] = {}

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
            reply = await self._link(row.contact_id, link.group("code") or "", language)
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
        if self._handoff is not None:
            planned = await self._handoff.plan(row, member, keep)
            if planned is not None:
                return planned
        log.info("staff %s: message %s (%s) taken by the staff desk", member.id, row.id, row.kind)
        if _command(text) in _SCHEDULE:
            return TurnPlan(
                state=keep,
                replies=(Reply(await self._schedule(member.id, language)),),
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

    async def _schedule(self, staff_id: int, language: str) -> str:
        """Today's and tomorrow's appointments: booking codes, modes and times only."""
        tz, now = ZoneInfo(self._config.office.timezone), self._clock()
        appointments = await schedule_for(self._store, staff_id, tz=tz, now=now)
        return format_schedule(appointments, tz=tz, now=now, language=language, texts=self._texts)

    async def _link(self, contact_id: int, code: str, language: str) -> Reply:
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
        return Reply(self._texts.get("staff.linked", language, username=member.username))


def _command(text: str) -> str:
    """`/bantuan@lk3_bot` or `bantuan` -> `bantuan`: the first word, lowercase."""
    words = text.removeprefix("/").split(maxsplit=1)
    return words[0].split("@", 1)[0].lower() if words else ""
