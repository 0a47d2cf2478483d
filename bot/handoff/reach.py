"""Who an urgent case alerts now: one decision for the alerts and for the family's words.

Escalation (`bot/handoff/escalation.py`) alerts the linked counsellors on duty (the
roster); when none is on duty, every linked counsellor and the supervisors; with
nobody linked, nobody is alerted and the case only waits in the console's queue.
The crisis flow tells the family the same thing (`{who_is_told}`, with the office
hours when an answer may take until then), read from the same `Reach`, so that
what the family is told can never disagree with what happens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.core.texts import BotTexts
from storage.records import StaffMember
from storage.store import Store

log = logging.getLogger(__name__)

__all__ = ["SITUATIONS", "WHO_IS_TOLD", "Reach", "WhoIsTold", "read_reach", "unique"]

WHO_IS_TOLD = "who_is_told"
"""The context key of the sentence saying who was told and when to expect an answer."""

SITUATIONS = ("on_duty", "everyone", "off_hours", "nobody")
"""What the family is told, by situation: each is a text `handoff.told.<situation>`."""


@dataclass(frozen=True, slots=True)
class Reach:
    """The staff an urgent case can reach at one moment."""

    linked: tuple[StaffMember, ...]  # active staff with a linked chat
    on_duty_ids: frozenset[int]  # staff the roster has on duty now, linked or not
    rostered: bool  # the roster has any shift at all (else on duty means nothing)

    @property
    def counsellors(self) -> tuple[StaffMember, ...]:
        return tuple(m for m in self.linked if "counsellor" in m.roles)

    @property
    def supervisors(self) -> tuple[StaffMember, ...]:
        return tuple(m for m in self.linked if "supervisor" in m.roles)

    @property
    def on_duty(self) -> tuple[StaffMember, ...]:
        """The linked counsellors on duty now (the only ones a `segera` case alerts)."""
        return tuple(m for m in self.counsellors if m.id in self.on_duty_ids)

    @property
    def first(self) -> tuple[StaffMember, ...]:
        """Who an urgent case alerts first: on duty, else every linked counsellor and
        supervisor."""
        return self.on_duty or unique(self.counsellors + self.supervisors)

    @property
    def widened(self) -> tuple[StaffMember, ...]:
        """Who an urgent case alerts once it has waited too long: the supervisors too."""
        return unique(self.first + self.supervisors)

    @property
    def situation(self) -> str:
        """One of `SITUATIONS`: what the family can truthfully be told."""
        if self.on_duty:
            return "on_duty"
        if not self.first:
            return "nobody"
        if self.rostered and not self.on_duty_ids:
            return "off_hours"
        return "everyone"


def unique(members: Iterable[StaffMember]) -> tuple[StaffMember, ...]:
    """Each staff member once, in the order first met."""
    seen: set[int] = set()
    found = []
    for member in members:
        if member.id not in seen:
            seen.add(member.id)
            found.append(member)
    return tuple(found)


async def read_reach(store: Store, config: Config, now: datetime, office_id: int = 1) -> Reach:
    """One office's staff and roster as they stand at `now` (office time): a case alerts
    the staff of its own office only."""
    staff = await store.staff.list(office_id=office_id)
    linked = tuple(m for m in staff if m.contact_id is not None)
    local = now.astimezone(config.office.tz)
    day, minute = local.weekday(), local.hour * 60 + local.minute
    shifts = await store.roster.shifts(office_id=office_id)
    on_duty = frozenset(s.staff_id for s in shifts if s.covers(day, minute))
    return Reach(linked, on_duty, bool(shifts))


class WhoIsTold:
    """The `{who_is_told}` context value, read only by turns whose flows show it."""

    keys = frozenset({WHO_IS_TOLD})

    def __init__(self, store: Store, config: Config, texts: BotTexts, office_id: int = 1) -> None:
        self._store = store
        self._config = config
        self._texts = texts
        self._office_id = office_id  # whose roster: the family's office's

    async def load(self, now: datetime, language: str) -> Mapping[str, str]:
        """The sentence for this moment. A crisis turn must never wait on it: if the staff
        or the roster cannot be read, the safe words are said (a case is open, the queue
        is read during service hours) and the turn goes on."""
        try:
            reach = await read_reach(self._store, self._config, now, self._office_id)
        except Exception as exc:
            log.error("who is told: staff or roster unreadable (%s)", type(exc).__name__)
            text = self._texts.get(
                "handoff.told.nobody", language, **self._config.context_values(language)
            )
            return {WHO_IS_TOLD: text}
        return {WHO_IS_TOLD: self.text(reach, language)}

    def text(self, reach: Reach, language: str, config: Config | None = None) -> str:
        """The sentence for `reach`, in the words of `config` (an office's; default: ours)."""
        values = (config or self._config).context_values(language)
        return self._texts.get(f"handoff.told.{reach.situation}", language, **values)
