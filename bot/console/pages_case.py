"""One case (`/console/cases/{code}`): triage summary, transcript, notes, referral, reply,
release and close.

Who may read it is `auth.can_read_case`: a supervisor every case, a counsellor
the cases they took; an admin without the counsellor role never gets here
(`Need.CASES`). Opening the page decrypts the family's messages and writes one
`case_view` row to the audit log first, so no reading goes unrecorded. Every
change goes through `bot.handoff.Handoff`; its refusals (`not_yours`, `closed`)
come back as a kind word on the page. Forms redirect back with a fixed notice
code in the address, never anything a person typed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.channels import whatsapp_window
from bot.console.auth import Access, Need, can_read_case
from bot.console.case_desk import CaseDesk, label, triage_of, waited
from bot.console.core import Console, form_text, redirect
from storage.audit import AuditEntry
from storage.handoff_records import LiveCase, Transition
from storage.handoff_schema import OUTCOMES, REFERRALS

__all__ = ["MAX_NOTE", "MAX_REPLY", "NOTICES", "register"]

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
        "empty",
        "not_yours",
        "closed_already",
        "bad_choice",
        "taken",
        "labelled",
    }
)
_OUTCOME_NOTICE = {"not_yours": "not_yours", "held": "not_yours", "closed": "closed_already"}


def register(console: Console, desk: CaseDesk) -> None:
    """Adds the case page and its actions."""

    async def readable(request: Request, access: Access) -> LiveCase | Response:
        code = str(request.path_params.get("case_code", ""))[:16]
        case = await desk.store.handoff.by_code(code)
        if case is None:
            return console.error(request, access, 404, "error_not_found")
        if not can_read_case(access.member.roles, access.member.id, case.owner_staff_id):
            return console.error(request, access, 403, "error_case_forbidden")
        return case

    def back(case: LiveCase, msg: str) -> Response:
        return redirect(f"/cases/{case.code}?msg={msg}")

    def answered(case: LiveCase, result: Transition, done: str) -> Response:
        if result.done or result.outcome == "already":
            desk.changed()
            return back(case, done)
        return back(case, _OUTCOME_NOTICE.get(result.outcome, "not_yours"))

    async def view(request: Request, access: Access) -> Response:
        found = await readable(request, access)
        if not isinstance(found, LiveCase):
            return found
        case = found
        me = access.member
        # The audit row first: if it cannot be written, nothing is shown.
        await console.store.audit.record(
            AuditEntry(
                f"staff:{me.id}",
                "case_view",
                f"case:{case.code},contact:{case.contact_id}",
                "case page opened in the web console",
            )
        )
        lang = console.lang(request)
        now = console.clock()
        transcript = await desk.store.console_cases.transcript(
            case.contact_id, until=case.closed_at
        )
        notes = await desk.store.handoff.notes(case.id)
        referrals = await desk.store.handoff.referrals(case.id)
        names: dict[int, str] = {}
        for staff_id in (
            {n.staff_id for n in notes} | {r.staff_id for r in referrals} | {case.owner_staff_id}
        ):
            if staff_id is not None:
                member = await console.store.staff.get(staff_id)
                names[staff_id] = "?" if member is None else member.display_name
        contact = await desk.store.contacts.get(case.contact_id)
        window = None
        if contact is not None and contact.channel == "whatsapp":
            found_window = await desk.store.whatsapp.for_contact(case.contact_id)
            last = None if found_window is None else found_window.last_inbound_at
            left = whatsapp_window.remaining(last, now)
            minutes = int(left.total_seconds() // 60)
            window = {
                "open": left.total_seconds() > 0,
                "text": console.t(request, "case_wa_open", h=minutes // 60, m=f"{minutes % 60:02d}")
                if left.total_seconds() > 0
                else console.t(request, "case_wa_closed"),
            }
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
            outcome_label=label(console.texts, "case_outcome", case.outcome or "", lang),
            opened=desk.local(case.opened_at),
            waited=waited(case.waiting_since, now, console.texts, lang),
            owner_name=names.get(case.owner_staff_id or 0, ""),
            triage=triage_of(await desk.store.sessions.get(case.contact_id), desk.library, lang),
            transcript=[
                (desk.local(line.at), line, label(console.texts, "case_kind", line.kind, lang))
                for line in transcript
            ],
            labels=await desk.store.safety_labels.for_contact(case.contact_id),
            notes=[(desk.local(n.at), names.get(n.staff_id or 0, "?"), n) for n in notes],
            referrals=[
                (
                    desk.local(r.at),
                    names.get(r.staff_id or 0, "?"),
                    label(console.texts, "case_referral", r.service, lang),
                )
                for r in referrals
            ],
            referral_options=[
                (r, label(console.texts, "case_referral", r, lang)) for r in REFERRALS
            ],
            outcome_options=[(o, label(console.texts, "case_outcome", o, lang)) for o in OUTCOMES],
            window=window,
            is_owner=owner,
            live=case.status in ("open", "taken"),
            can_reply=owner and case.status == "taken",
            can_close=case.status in ("open", "taken") and (owner or "supervisor" in me.roles),
            can_take=case.status == "open",
            notice=console.t(request, "case_msg_" + msg) if msg in NOTICES else "",
            notice_bad=msg in ("empty", "not_yours", "closed_already", "bad_choice"),
            max_reply=MAX_REPLY,
            max_note=MAX_NOTE,
        )

    async def reply(request: Request, access: Access) -> Response:
        found = await readable(request, access)
        if not isinstance(found, LiveCase):
            return found
        text = await form_text(request, "text", MAX_REPLY)
        if not text:
            return back(found, "empty")
        result = await desk.handoff.relay_out(access.member.id, found.id, text, source="console")
        return answered(found, result, "sent")

    async def note(request: Request, access: Access) -> Response:
        found = await readable(request, access)
        if not isinstance(found, LiveCase):
            return found
        text = await form_text(request, "text", MAX_NOTE)
        if not text:
            return back(found, "empty")
        result = await desk.handoff.note(access.member.id, found.id, text)
        return answered(found, result, "noted")

    async def refer(request: Request, access: Access) -> Response:
        found = await readable(request, access)
        if not isinstance(found, LiveCase):
            return found
        service = await form_text(request, "service", 40)
        if service not in REFERRALS:
            return back(found, "bad_choice")
        result = await desk.handoff.refer(access.member.id, found.id, service)
        return answered(found, result, "referred")

    async def release(request: Request, access: Access) -> Response:
        found = await readable(request, access)
        if not isinstance(found, LiveCase):
            return found
        result = await desk.handoff.release(access.member.id, found.id)
        if result.done:
            desk.changed()
            return redirect("/queue")
        return answered(found, result, "released")

    async def close(request: Request, access: Access) -> Response:
        found = await readable(request, access)
        if not isinstance(found, LiveCase):
            return found
        outcome = await form_text(request, "outcome", 40)
        if outcome not in OUTCOMES:
            return back(found, "bad_choice")
        supervisor = "supervisor" in access.member.roles
        result = await desk.handoff.close(
            access.member.id, found.id, outcome, supervisor=supervisor
        )
        return answered(found, result, "closed")

    console.add("/cases/{case_code}", view, Need.CASES)
    console.add("/cases/{case_code}/reply", reply, Need.CASES, ("POST",))
    console.add("/cases/{case_code}/notes", note, Need.CASES, ("POST",))
    console.add("/cases/{case_code}/refer", refer, Need.CASES, ("POST",))
    console.add("/cases/{case_code}/release", release, Need.CASES, ("POST",))
    console.add("/cases/{case_code}/close", close, Need.CASES, ("POST",))
