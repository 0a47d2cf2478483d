"""Counsellors teach the crisis check: "Ini darurat" / "Alarm palsu" on a family's message.

`POST /console/cases/{code}/label` with `message` (the inbox id of a line of the
case's transcript) and `label` (`urgent` or `none`). Whoever may read the case
may label its messages (`auth.can_read_case`, as on the case page). The label is
kept with a sealed copy of the words and the level the crisis check gives them
now, so a retraining sees where it and the counsellor disagreed
(`lk3 safety export-labels`). The audit row names the case and the message,
never the words; the redirect carries a fixed notice code.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need, can_read_case
from bot.console.core import Console, PageRoute, form_text, redirect
from bot.console.scope import case_by_code
from bot.core.pipeline import classify_windows
from bot.digits import digits
from bot.safety import Classifier
from storage.privacy.audit import AuditEntry

__all__ = ["CHOICES", "bundled_level", "routes"]

# What the two buttons send, and what the audit row says each one means.
CHOICES = {"urgent": "this was urgent", "none": "false alarm"}
_MAX_ID_DIGITS = 18  # an inbox id always fits SQLite's 64-bit integer


def bundled_level(text: str) -> str:
    """The level the bot's own crisis check gives `text` now (`urgent`, `check`, `none`)."""
    return classify_windows(Classifier.bundled(), text).level.value


async def label(console: Console, request: Request, access: Access) -> Response:
    """Stores the counsellor's label on one family message and goes back to the case."""
    code = str(request.path_params.get("case_code", ""))[:16]
    store = console.desk.store
    case = await case_by_code(store, access, code)
    if case is None:
        return console.error(request, access, 404, "error_not_found")
    me = access.member
    if not can_read_case(me.roles, me.id, case.owner_staff_id):
        return console.error(request, access, 403, "error_case_forbidden")
    choice = await form_text(request, "label", 20)
    raw_id = await form_text(request, "message", 40)
    back = f"/cases/{case.code}?msg="
    if choice not in CHOICES or not _is_id(raw_id):
        return redirect(back + "bad_choice")
    message_id = int(raw_id)
    # Only a message the case page shows may be labelled: not an older case's, nor
    # one guessed by its id (a label copies the words into the next export).
    shown = await store.console_cases.transcript(case.contact_id, until=case.closed_at)
    if message_id not in {line.message_id for line in shown if line.direction == "in"}:
        return redirect(back + "bad_choice")
    text = await store.safety_labels.message_text(case.contact_id, message_id, until=case.closed_at)
    if text is None or not text.strip():
        return redirect(back + "bad_choice")
    level = await asyncio.to_thread(bundled_level, text)
    entry = AuditEntry(
        f"staff:{me.id}",
        "label_message",
        f"case:{case.code},message:{message_id}",
        f"counsellor labelled a family message for the crisis check: {CHOICES[choice]}",
    )
    done = await store.safety_labels.put(
        case.contact_id,
        message_id,
        choice,
        level=level,
        staff_id=me.id,
        entry=entry,
        until=case.closed_at,
    )
    if not done:
        return redirect(back + "bad_choice")
    return redirect(f"{back}labelled#m{message_id}")


def _is_id(value: str) -> bool:
    return value.isascii() and digits(value) and len(value) <= _MAX_ID_DIGITS


routes = [PageRoute("/cases/{case_code}/label", label, Need.CASES, ("POST",))]
