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

WhatsApp and the web chat have no `/start`: a click-to-chat link fills in the first
message instead (`https://wa.me/62…?text=LK3%20Tual`). So the first message of a new
conversation that is only an office's code (`tual`, `LK3 Tual`) routes the same way;
it too goes on to the crisis check and the flows.
"""

from __future__ import annotations

import logging
import re

from bot.core.handlers import Handled, Turn
from storage.store import Store

__all__ = ["OfficeRouting"]

log = logging.getLogger(__name__)

# A click-to-chat first message: an office code, perhaps after "LK3".
_FIRST_WORDS = re.compile(r"\s*(?:lk3[\s-]+)?([a-z][a-z0-9-]{1,31})[\s.!]*", re.IGNORECASE)


class OfficeRouting:
    """Puts a family with the office their deep link names; answers nothing itself."""

    checked = False

    def __init__(self, store: Store) -> None:
        self._store = store

    def goes_first(self, kind: str, text: str) -> bool:
        return False

    async def handle(self, turn: Turn) -> Handled | None:
        code = _code_in(turn)
        if code is None:
            return None
        row = turn.row
        try:
            office = await self._store.offices.by_code(code)
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


def _code_in(turn: Turn) -> str | None:
    """The office code a deep link or a click-to-chat first message names, if any."""
    row = turn.row
    if turn.staff:
        return None
    if row.kind == "start":
        return row.text.strip() or None
    if row.kind == "text" and turn.state is None and len(row.text) <= 40:
        found = _FIRST_WORDS.fullmatch(row.text)
        return None if found is None else found.group(1).lower()
    return None
