"""Which office a family belongs to: chosen by the deep link they arrived by.

A family's first message sets nothing: they belong to the default office, as
every family did before offices existed. A deep link names an office by its
code (`https://t.me/<bot>?start=ambon` arrives as `/start ambon`, a "start"
message whose text is `ambon`): the contact is then that office's, so its
next case opens there, its bookings are with that office's counsellors and
its figures count there. An unknown code changes nothing, and the link is
idempotent (the message processed again routes to the same office).

The handler runs first in the chain and never answers: the start message goes
on to the crisis check and the flows like any other (the greeting follows).
A case already open stays with the office it was opened in.
"""

from __future__ import annotations

import logging

from bot.core.handlers import Handled, Turn
from storage.store import Store

__all__ = ["OfficeRouting"]

log = logging.getLogger(__name__)


class OfficeRouting:
    """Puts a family with the office their deep link names; answers nothing itself."""

    checked = False

    def __init__(self, store: Store) -> None:
        self._store = store

    def goes_first(self, kind: str, text: str) -> bool:
        return False

    async def handle(self, turn: Turn) -> Handled | None:
        row = turn.row
        if row.kind != "start" or not row.text.strip() or turn.staff:
            return None
        try:
            office = await self._store.offices.by_code(row.text)
            if office is None or office.archived:
                return None
            if await self._store.offices.office_of_contact(row.contact_id) != office.id:
                await self._store.offices.route_contact(row.contact_id, office.id)
                log.info(
                    "contact %s routed to office %s by a deep link", row.contact_id, office.code
                )
        except Exception as exc:
            # The greeting and the crisis check never wait on the routing: the family
            # stays where it was (its next link routes it again).
            log.error(
                "contact %s: routing by deep link failed (%s)", row.contact_id, type(exc).__name__
            )
        return None
