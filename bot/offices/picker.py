"""The web chat's first question when a deployment serves several offices: which regency
or city the family lives in, one button per office.

Telegram and WhatsApp families arrive by their office's link; a family opening the
web chat page has none. So, with more than one office (not archived), a web chat
conversation that starts without one is asked first, warmly and in the page's
language, where the family lives; the button they press puts them with that office
exactly as a deep link does (`storage.offices.repo.route_in_turn`'s rule: an
archived office takes no new family), and the conversation then begins as it would
have: the office's own greeting, from its own flows. One office: no question, and
nothing more is read.

Never in the way of safety or of the family's words:
- the handler runs after the crisis check: a first message with any concern goes
  straight to the flows (the crisis reply, the hand-off), never to a question;
- words typed instead of a press are matched to an office's code or name; words
  that name none are not lost: the family stays with the default office and the
  flows answer those very words.
"""

from __future__ import annotations

import dataclasses
import logging
import re

from bot.config import Config
from bot.core.handlers import Handled, Turn, TurnHandler
from bot.core.texts import BotTexts
from bot.core.turns import PRIORITY_ROUTINE, Reply, TurnPlan
from bot.safety import Level
from flows.anywhere import START_LANGUAGE
from flows.state import SessionState
from storage.channels.webchat import CHANNEL as WEBCHAT
from storage.errors import InvalidRecordError
from storage.offices.repo import DEFAULT_OFFICE_ID, Office
from storage.store import Store

__all__ = ["ASKED", "OfficePicker"]

log = logging.getLogger(__name__)

ASKED = "office_asked"
"""The session variable saying the question is out; its value: the page's opening
(`lang-en` on the English page, else empty), replayed once the family answers."""


class OfficePicker:
    """Asks a new web chat family for their regency or city when there are several offices."""

    checked = True

    def __init__(self, store: Store, texts: BotTexts, config: Config, flows: TurnHandler) -> None:
        self._store = store
        self._texts = texts
        self._config = config
        self._flows = flows

    def goes_first(self, kind: str, text: str) -> bool:
        return False

    async def handle(self, turn: Turn) -> Handled | None:
        row, state = turn.row, turn.state
        if row.channel != WEBCHAT or turn.staff:
            return None
        asked = state is not None and state.ended and state.var(ASKED) is not None
        if state is not None and not asked:
            return None  # a conversation under way (or over): never asked again
        if turn.assessment.level is not Level.NONE:
            return None  # a concern goes to the flows at once, question or no question
        if state is None and row.kind not in ("start", "text"):
            return None
        if await self._store.offices.office_of_contact(row.contact_id) != DEFAULT_OFFICE_ID:
            return None  # a link (or an earlier answer) put them with an office already
        offices = await self._store.offices.list()
        if len(offices) < 2:
            return None  # one office: no question
        if state is None:
            return self._ask(row.kind, row.text, offices)
        opening = str(state.var(ASKED) or "")
        chosen = _chosen(row.kind, row.text, offices, self._config.office.name)
        if chosen is not None:
            if chosen.id != DEFAULT_OFFICE_ID:
                try:
                    await self._store.offices.route_contact(row.contact_id, chosen.id)
                    log.info(
                        "contact %s chose office %s in the web chat", row.contact_id, chosen.code
                    )
                except InvalidRecordError:  # archived since the question: the default's
                    log.info(
                        "contact %s chose office %s, archived since", row.contact_id, chosen.code
                    )
            # The conversation begins as it would have: the office's greeting, in the
            # page's language.
            start = dataclasses.replace(row, kind="start", text=opening)
            return await self._flows.handle(dataclasses.replace(turn, row=start, state=None))
        # Words that name no office: the default office's flows answer them as they are.
        return await self._flows.handle(dataclasses.replace(turn, state=None))

    def _ask(self, kind: str, text: str, offices: list[Office]) -> Handled:
        opening = text if kind == "start" and text.startswith(START_LANGUAGE) else ""
        language = opening[len(START_LANGUAGE) :] if opening else self._config.languages[0]
        if language not in self._config.languages:
            language, opening = self._config.languages[0], ""
        question = self._texts.get("offices.picker.question", language)
        choices = tuple((o.code, o.name or self._config.office.name) for o in offices)
        state = SessionState(language, (), ((ASKED, opening),))
        return Handled(TurnPlan(state, (Reply(question, choices),), PRIORITY_ROUTINE))


def _chosen(kind: str, text: str, offices: list[Office], default_name: str) -> Office | None:
    """The office a press names (its code), or the one the typed words name: its code, all
    of its name's own words, or, failing that, the only office sharing a word with them."""
    said = text.strip().lower()
    for office in offices:
        if said == office.code:
            return office
    if kind != "text" or not said:
        return None
    words = set(_WORDS.findall(said))
    named = {o.id: _name_words(o.name or default_name) for o in offices}
    for office in offices:
        if office.code in words or (named[office.id] and named[office.id] <= words):
            return office
    sharing = [o for o in offices if named[o.id] & words]
    return sharing[0] if len(sharing) == 1 else None


_WORDS = re.compile(r"[a-z0-9-]+")
_COMMON = frozenset({"lk3", "kota", "kabupaten", "kab", "layanan", "keluarga"})


def _name_words(name: str) -> set[str]:
    return {w for w in _WORDS.findall(name.lower()) if w not in _COMMON and len(w) > 2}
