"""Referral destinations (admins): the services a case can be referred to, edited here.

An admin adds a destination (a short code and its name in each language), renames one,
or retires it: a retired destination is no longer offered on the case page or to
`/rujuk`, and cases already referred to it keep its name. A code never changes, since
the figures, the case CSV and the webhooks carry it. Every change is in the audit log.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need
from bot.console.core import Console, PageRoute, form_text
from bot.console.say import said
from storage.errors import StorageError
from storage.privacy.audit import AuditEntry

__all__ = ["routes"]


async def page(
    console: Console,
    request: Request,
    access: Access,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    return console.render(
        request,
        access,
        "referrals.html",
        status=status,
        destinations=await console.store.referrals.list(),
        notice=notice,
        error=error,
    )


async def audit(console: Console, access: Access, action: str, code: str, reason: str) -> None:
    entry = AuditEntry(f"staff:{access.member.id}", action, f"referral:{code}", reason)
    await console.store.audit.record(entry)


async def listing(console: Console, request: Request, access: Access) -> Response:
    return await page(console, request, access)


async def add(console: Console, request: Request, access: Access) -> Response:
    code = (await form_text(request, "code", 60)).lower()
    label_id = await form_text(request, "label_id", 200)
    label_en = await form_text(request, "label_en", 200)
    try:
        added = await console.store.referrals.add(code, label_id, label_en, console.clock())
    except StorageError as exc:
        reason = console.t(
            request, "user_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await page(console, request, access, error=reason, status=400)
    await audit(console, access, "referral_added", added.code, "destination added")
    notice = console.t(request, "referral_added", code=added.code)
    return await page(console, request, access, notice=notice)


async def change(console: Console, request: Request, access: Access) -> Response:
    code = str(request.path_params.get("code", ""))[:60]
    before = await console.store.referrals.get(code)
    if before is None:
        return console.error(request, access, 404, "error_not_found")
    label_id = await form_text(request, "label_id", 200)
    label_en = await form_text(request, "label_en", 200)
    active = await form_text(request, "active", 2) == "1"
    try:
        after = await console.store.referrals.change(
            code, label_id, label_en, active, console.clock()
        )
    except StorageError as exc:
        reason = console.t(
            request, "user_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await page(console, request, access, error=reason, status=400)
    changes = []
    if (before.label_id, before.label_en) != (after.label_id, after.label_en):
        changes.append("renamed")
    if before.active != after.active:
        changes.append("offered again" if after.active else "retired")
    await audit(console, access, "referral_changed", code, ", ".join(changes) or "saved unchanged")
    return await page(console, request, access, notice=console.t(request, "user_saved"))


routes = [
    PageRoute("/referrals", listing, Need.ADMIN),
    PageRoute("/referrals", add, Need.ADMIN, ("POST",)),
    PageRoute("/referrals/{code}", change, Need.ADMIN, ("POST",)),
]
