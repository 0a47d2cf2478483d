"""One case (`/console/cases/{code}`): triage summary, transcript, notes, referral, reply,
release and close.

Who may read it is `auth.can_read_case`: a supervisor every case, a counsellor
the cases they took; an admin without the counsellor role never gets here
(`Need.CASES`). Opening the page decrypts the family's messages and writes one
`case_view` row to the audit log first, so no reading goes unrecorded. Every
change goes through `bot.handoff.service.Handoff`; its refusals (`not_yours`, `closed`)
come back as a kind word on the page. Forms redirect back with a fixed notice
code in the address, never anything a person typed. Release and close ask first
(`bot.console.confirm`); a close needs an outcome chosen (none is preselected),
and the family of an urgent case is asked to rate only if the box is ticked. A
reply sent by the page's script gets the conversation back in place (JSON), so
the page neither reloads nor jumps; the live conversation is `case_live`.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.console.auth.login import Access, Need, can_read_case
from bot.console.case_desk import crisis_labels, label, triage_of, waited
from bot.console.confirm import ask_first, confirmed
from bot.console.core import PREFIX, Console, PageRoute, form_text, redirect
from bot.console.pages.case_live import audit_view, render_thread, state_of, thread_context
from bot.console.scope import case_by_code, library_of
from storage.handoff.records import LiveCase, Transition
from storage.handoff.schema import OUTCOMES

__all__ = ["MAX_NOTE", "MAX_REPLY", "NOTICES", "routes"]

MAX_REPLY = 4000
MAX_NOTE = 4000
# The notices a redirect may name (`?msg=`): fixed codes, looked up in texts.toml.
NOTICES = frozenset(
    {
        "sent",
        "noted",
        "referred",
        "released",
        "closed",
        "closed_quiet",
        "need_outcome",
        "empty",
        "not_yours",
        "closed_already",
        "bad_choice",
        "taken",
        "labelled",
        "family_left",
    }
)
_OUTCOME_NOTICE = {
    "not_yours": "not_yours",
    "held": "not_yours",
    "closed": "closed_already",
    "family_left": "family_left",
}


async def readable(console: Console, request: Request, access: Access) -> LiveCase | Response:
    code = str(request.path_params.get("case_code", ""))[:16]
    case = await case_by_code(console.desk.store, access, code)
    if case is None:  # another office's case is not found either (bot.console.scope)
        return console.error(request, access, 404, "error_not_found")
    if not can_read_case(access.member.roles, access.member.id, case.owner_staff_id):
        return console.error(request, access, 403, "error_case_forbidden")
    return case


def back(case: LiveCase, msg: str) -> Response:
    return redirect(f"/cases/{case.code}?msg={msg}")


def answered(console: Console, case: LiveCase, result: Transition, done: str) -> Response:
    if result.done or result.outcome == "already":
        console.desk.changed()
        return back(case, done)
    return back(case, _OUTCOME_NOTICE.get(result.outcome, "not_yours"))


async def view(console: Console, request: Request, access: Access) -> Response:
    found = await readable(console, request, access)
    if not isinstance(found, LiveCase):
        return found
    case = found
    me = access.member
    # The audit row first: if it cannot be written, nothing is shown.
    await audit_view(console, access, case, "case page opened in the web console")
    lang = console.lang(request)
    now = console.clock()
    notes = await console.desk.store.handoff.notes(case.id)
    referrals = await console.desk.store.handoff.referrals(case.id)
    # The destinations are rows an admin edits (pages/referrals.py): a retired one keeps
    # its name on old cases and is no longer offered.
    destinations = {d.code: d for d in await console.store.referrals.list()}
    names: dict[int, str] = {}
    for staff_id in (
        {n.staff_id for n in notes} | {r.staff_id for r in referrals} | {case.owner_staff_id}
    ):
        if staff_id is not None:
            member = await console.store.staff.get(staff_id)
            names[staff_id] = "?" if member is None else member.display_name
    thread = await thread_context(console, request, case)
    msg = request.query_params.get("msg", "")
    owner = case.owner_staff_id == me.id
    return console.render(
        request,
        access,
        "case.html",
        case=case,
        urgency_label=label(console.texts, "urgency", case.urgency, lang),
        category_label=label(console.texts, "case_category", case.category, lang),
        status_label=label(console.texts, "case_status", case.status, lang),
        kinds=crisis_labels(console.texts, case.crisis, lang),
        state=state_of(case),
        outcome_label=label(console.texts, "case_outcome", case.outcome or "", lang),
        opened=console.desk.local(case.opened_at),
        waited=waited(case.waiting_since, now, console.texts, lang),
        owner_name=names.get(case.owner_staff_id or 0, ""),
        triage=triage_of(
            await console.desk.store.sessions.get(case.contact_id),
            await library_of(console, case.office_id),  # the case's office's flows
            lang,
        ),
        notes=[(console.desk.local(n.at), names.get(n.staff_id or 0, "?"), n) for n in notes],
        referrals=[
            (
                console.desk.local(r.at),
                names.get(r.staff_id or 0, "?"),
                destinations[r.service].label(lang) if r.service in destinations else r.service,
            )
            for r in referrals
        ],
        referral_options=[(d.code, d.label(lang)) for d in destinations.values() if d.active],
        outcome_options=[(o, label(console.texts, "case_outcome", o, lang)) for o in OUTCOMES],
        **thread,
        is_owner=owner,
        live=case.status in ("open", "taken"),
        can_reply=owner and case.status == "taken",
        can_close=case.status in ("open", "taken") and (owner or "supervisor" in me.roles),
        can_take=case.status == "open",
        notice=console.t(request, "case_msg_" + msg) if msg in NOTICES else "",
        notice_bad=msg
        in ("empty", "not_yours", "closed_already", "bad_choice", "family_left", "need_outcome"),
        max_reply=MAX_REPLY,
        max_note=MAX_NOTE,
    )


def by_script(request: Request) -> bool:
    """A form sent by the page's script (fetch), which wants the answer in place."""
    return request.headers.get("X-Requested-With") == "fetch"


async def reply(console: Console, request: Request, access: Access) -> Response:
    found = await readable(console, request, access)
    if not isinstance(found, LiveCase):
        return found
    text = await form_text(request, "text", MAX_REPLY)
    if not text:
        msg = "empty"
    else:
        # A relay is recorded once per source: each console reply is its own (with one fixed
        # "console", every reply after the first was taken for a repeat and never sent).
        source = "console:" + secrets.token_hex(8)
        result = await console.desk.handoff.relay_out(
            access.member.id, found.id, text, source=source
        )
        if result.done or result.outcome == "already":
            console.desk.changed()
            msg = "sent"
        else:
            msg = _OUTCOME_NOTICE.get(result.outcome, "not_yours")
    if not by_script(request):
        return back(found, msg)
    # The page stays where it is: the new conversation and a word, in place.
    case = await console.desk.store.handoff.get(found.id) or found
    context = await thread_context(console, request, case)
    return JSONResponse(
        {
            "ok": msg == "sent",
            "notice": console.t(request, "case_msg_" + msg),
            "thread": render_thread(console, request, access, case, context),
            "mark": context["mark"],
        }
    )


async def note(console: Console, request: Request, access: Access) -> Response:
    found = await readable(console, request, access)
    if not isinstance(found, LiveCase):
        return found
    text = await form_text(request, "text", MAX_NOTE)
    if not text:
        return back(found, "empty")
    result = await console.desk.handoff.note(access.member.id, found.id, text)
    return answered(console, found, result, "noted")


async def refer(console: Console, request: Request, access: Access) -> Response:
    found = await readable(console, request, access)
    if not isinstance(found, LiveCase):
        return found
    service = await form_text(request, "service", 40)
    offered = await console.store.referrals.get(service) if service else None
    if offered is None or not offered.active:
        return back(found, "bad_choice")
    result = await console.desk.handoff.refer(access.member.id, found.id, service)
    return answered(console, found, result, "referred")


async def release(console: Console, request: Request, access: Access) -> Response:
    found = await readable(console, request, access)
    if not isinstance(found, LiveCase):
        return found
    if not await confirmed(request):
        return ask_first(
            console,
            request,
            access,
            question=console.t(request, "case_release_confirm", code=found.code),
            detail=console.t(request, "case_release_hint"),
            yes=console.t(request, "case_release_yes"),
            back=f"{PREFIX}/cases/{found.code}",
        )
    result = await console.desk.handoff.release(access.member.id, found.id)
    if result.done:
        console.desk.changed()
        return redirect("/queue")
    return answered(console, found, result, "released")


async def close(console: Console, request: Request, access: Access) -> Response:
    found = await readable(console, request, access)
    if not isinstance(found, LiveCase):
        return found
    outcome = await form_text(request, "outcome", 40)
    if not outcome:
        return back(found, "need_outcome")  # nothing is preselected: a choice must be made
    if outcome not in OUTCOMES:
        return back(found, "bad_choice")
    ask_rating = await form_text(request, "ask_rating", 8) == "yes"
    if not await confirmed(request):
        lang = console.lang(request)
        rating = "case_close_rating_yes" if ask_rating else "case_close_rating_no"
        return ask_first(
            console,
            request,
            access,
            question=console.t(
                request,
                "case_close_confirm",
                code=found.code,
                outcome=label(console.texts, "case_outcome", outcome, lang),
            ),
            detail=console.t(request, rating),
            yes=console.t(request, "case_close_yes"),
            back=f"{PREFIX}/cases/{found.code}",
            fields=[("outcome", outcome), ("ask_rating", "yes" if ask_rating else "no")],
        )
    supervisor = "supervisor" in access.member.roles
    result = await console.desk.handoff.close(
        access.member.id, found.id, outcome, supervisor=supervisor, ask_rating=ask_rating
    )
    return answered(console, found, result, "closed" if ask_rating else "closed_quiet")


routes = [
    PageRoute("/cases/{case_code}", view, Need.CASES),
    PageRoute("/cases/{case_code}/reply", reply, Need.CASES, ("POST",)),
    PageRoute("/cases/{case_code}/notes", note, Need.CASES, ("POST",)),
    PageRoute("/cases/{case_code}/refer", refer, Need.CASES, ("POST",)),
    PageRoute("/cases/{case_code}/release", release, Need.CASES, ("POST",)),
    PageRoute("/cases/{case_code}/close", close, Need.CASES, ("POST",)),
]
