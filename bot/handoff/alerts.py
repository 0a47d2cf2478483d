"""How a counsellor alert reads: one case or a digest of several, from the cases as they are now.

An alert lists each case by code, category, urgency and waiting time, with one
"take" button per case still waiting; never a family's words, name or number.
One waiting case reads as the single alert (`handoff.alert`); one case taken or
closed as the line that replaces it (`handoff.alert_taken`, `handoff.alert_closed`);
anything else as a digest: a heading, one numbered line per case (waiting, taken
by whom, closed) and how to take one. The same function renders an alert when it
is filed, when the sender takes it (storage.handoff.digests) and when a take or a
close edits it, so the words always match the cases.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.base import ACTION_PREFIX
from bot.handoff.service import Handoff
from storage.handoff.digests import Options
from storage.handoff.records import DigestLine

__all__ = ["TAKE_PREFIX", "AlertRenderer"]

# Button data of "take case": `!take:<case id>`; the `!` marks an action button
# that stays live on its own message (bot.channels.base.ACTION_PREFIX).
TAKE_PREFIX = f"{ACTION_PREFIX}take:"


class AlertRenderer:
    """Renders alert messages in the office's first language."""

    def __init__(self, handoff: Handoff) -> None:
        self._handoff = handoff

    def __call__(self, lines: Sequence[DigestLine], *, buttons: bool = True) -> tuple[str, Options]:
        """The words and buttons of an alert listing `lines` (most urgent first).

        `buttons=False` is for a channel that can edit a message's words but not
        its buttons: the text then says how to take a case by command.
        """
        text = self._handoff.text
        waiting = [line.case for line in lines if line.case.status == "open"]
        options = (
            tuple(
                (f"{TAKE_PREFIX}{case.id}", text("handoff.take_button", code=case.code))
                for case in waiting
            )
            if buttons
            else ()
        )
        if len(lines) == 1 and (buttons or not waiting):
            return self._single(lines[0]), options
        parts = [text("handoff.digest_head")]
        parts += [self._line(number, line) for number, line in enumerate(lines, start=1)]
        if waiting:
            foot = "handoff.digest_foot" if buttons else "handoff.digest_foot_typed"
            parts.append("\n" + text(foot))
        return "\n".join(parts), options

    def _single(self, line: DigestLine) -> str:
        case = line.case
        if case.status == "taken":
            return self._handoff.text(
                "handoff.alert_taken", code=case.code, name=_short(line.owner_name)
            )
        if case.status == "closed":
            return self._handoff.text("handoff.alert_closed", code=case.code)
        values = self._handoff.describe(case)
        return self._handoff.text("handoff.alert", round=str(line.round), **values)

    def _line(self, number: int, line: DigestLine) -> str:
        case = line.case
        if case.status == "taken":
            return self._handoff.text(
                "handoff.digest_taken",
                number=str(number),
                code=case.code,
                name=_short(line.owner_name),
            )
        if case.status == "closed":
            return self._handoff.text("handoff.digest_closed", number=str(number), code=case.code)
        values = self._handoff.describe(case)
        return self._handoff.text(
            "handoff.digest_line", number=str(number), round=str(line.round), **values
        )


NAME_CHARS = 40


def _short(name: str | None) -> str:
    """A counsellor's display name as an alert shows it: display names have no length
    limit, and a digest of 30 cases must still fit one message when edited."""
    if not name:
        return "-"
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
