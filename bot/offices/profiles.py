"""Each office's own words (`[offices.<code>]`) for the family in front of the bot.

With one office (no `[offices.*]` section) nothing is read: the configuration is
the office's, as before offices existed, and a turn costs no extra query. With
several, a family's turn reads which office the family is with (one indexed
read) and uses that office's name, hours and hotlines, so a crisis reply in Tual
gives Tual's numbers. Office codes never change, so id -> code is cached.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.config import Config
from storage.store import Store

__all__ = ["OfficeConfigs", "ensure_offices"]

log = logging.getLogger(__name__)


class OfficeConfigs:
    """The configuration as each office's families see it."""

    def __init__(self, store: Store, config: Config) -> None:
        self._store = store
        self._config = config
        self._codes: dict[int, str] = {}

    async def for_contact(self, contact_id: int) -> Config:
        if not self._config.offices:
            return self._config
        office_id = await self._store.offices.office_of_contact(contact_id)
        return self._config if office_id is None else await self.for_office(office_id)

    async def for_office(self, office_id: int) -> Config:
        if not self._config.offices:
            return self._config
        code = self._codes.get(office_id)
        if code is None:
            office = await self._store.offices.get(office_id)
            if office is None:
                return self._config
            code = self._codes[office_id] = office.code
        return self._config.for_office(code)

    async def for_staff(self, staff_id: int) -> Config:
        """A staff member's office's configuration: their schedule, attendance and calendar
        feed in their office's time zone. One office: nothing is read."""
        if not self._config.offices:
            return self._config
        member = await self._store.staff.get(staff_id)
        return self._config if member is None else await self.for_office(member.office_id)


async def ensure_offices(store: Store, config: Config, at: datetime) -> list[str]:
    """Adds each office named in `[offices.*]` that the database lacks; the codes added."""
    added = []
    for profile in config.offices:
        if await store.offices.by_code(profile.code) is None:
            await store.offices.add(profile.code, profile.office.name, at)
            log.info("office %s added from the configuration", profile.code)
            added.append(profile.code)
    return added
