"""Users (admins): add staff, change roles, deactivate, reset a password or second factor,
issue a Telegram link code. Every change is written to the audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need
from bot.console.auth.passwords import PasswordError
from bot.console.confirm import ask_first, confirmed
from bot.console.core import PREFIX, Console, PageRoute, form_text
from bot.console.say import said
from bot.console.scope import office_of
from bot.digits import digits
from storage.console.staff import OFFICE_ROLES
from storage.errors import StorageError
from storage.privacy.audit import AuditEntry
from storage.records import StaffMember

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
    users = await console.store.staff.list(active_only=False, office_id=office_of(access))
    return console.render(
        request,
        access,
        "users.html",
        status=status,
        users=users,
        roles=OFFICE_ROLES,
        notice=notice,
        error=error,
    )


async def audit(console: Console, access: Access, action: str, staff_id: int, reason: str) -> None:
    entry = AuditEntry(f"staff:{access.member.id}", action, f"staff:{staff_id}", reason)
    await console.store.audit.record(entry)


def target(request: Request) -> int | None:
    raw = str(request.path_params.get("staff_id", ""))
    return int(raw) if digits(raw) and len(raw) < 12 else None


async def member_here(console: Console, request: Request, access: Access) -> StaffMember | None:
    """The staff member the address names, if they work in the admin's office (another
    office's staff member is not found)."""
    staff_id = target(request)
    member = None if staff_id is None else await console.store.staff.get(staff_id)
    return member if member is not None and member.office_id == office_of(access) else None


async def roles_from(request: Request) -> list[str]:
    """The roles ticked; the province role is never taken from a form (see OFFICE_ROLES)."""
    form = await request.form()
    return [r for r in form.getlist("role") if isinstance(r, str) and r in OFFICE_ROLES]


async def listing(console: Console, request: Request, access: Access) -> Response:
    return await page(console, request, access)


async def add(console: Console, request: Request, access: Access) -> Response:
    username = await form_text(request, "username", 64)
    name = await form_text(request, "display_name", 100)
    password = await form_text(request, "password", 256)
    roles = await roles_from(request)
    try:
        password_hash = console.auth.settings.hasher.hash(password)
        member = await console.store.staff.add(
            username, name, roles, console.clock(), office_id=office_of(access)
        )
    except (PasswordError, StorageError) as exc:
        reason = console.t(
            request, "user_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await page(console, request, access, error=reason, status=400)
    await console.store.console.set_password(member.id, password_hash)
    await audit(
        console, access, "staff_added", member.id, "roles " + ",".join(sorted(member.roles))
    )
    notice = console.t(request, "user_added", username=member.username)
    return await page(console, request, access, notice=notice)


async def set_roles(console: Console, request: Request, access: Access) -> Response:
    member = await member_here(console, request, access)
    if member is None:
        return console.error(request, access, 404, "error_not_found")
    roles = await roles_from(request)
    roles += sorted(member.roles - set(OFFICE_ROLES))  # kept: given from the command line
    if member.id == access.member.id and "admin" not in roles:
        return await page(
            console, request, access, error=console.t(request, "user_self_admin"), status=400
        )
    try:
        await console.store.staff.set_roles(member.id, roles, console.clock())
    except StorageError as exc:
        reason = console.t(
            request, "user_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await page(console, request, access, error=reason, status=400)
    before, after = ",".join(sorted(member.roles)), ",".join(sorted(set(roles)))
    await audit(console, access, "staff_roles_changed", member.id, f"roles {before} -> {after}")
    return await page(console, request, access, notice=console.t(request, "user_saved"))


async def set_active(console: Console, request: Request, access: Access) -> Response:
    member = await member_here(console, request, access)
    if member is None:
        return console.error(request, access, 404, "error_not_found")
    active = await form_text(request, "active", 2) == "1"
    if member.id == access.member.id and not active:
        return await page(
            console, request, access, error=console.t(request, "user_self_admin"), status=400
        )
    if not active and not await confirmed(request):
        return ask_first(
            console,
            request,
            access,
            question=console.t(request, "deactivate_confirm", name=member.display_name),
            detail=console.t(request, "deactivate_detail"),
            yes=console.t(request, "deactivate_yes"),
            back=f"{PREFIX}/users",
            fields=[("active", "0")],
        )
    await console.store.staff.set_active(member.id, active, console.clock())
    if not active:
        await console.store.console.end_sessions(member.id)
    action = "staff_reactivated" if active else "staff_deactivated"
    await audit(console, access, action, member.id, "from the console users page")
    return await page(console, request, access, notice=console.t(request, "user_saved"))


async def reset_password(console: Console, request: Request, access: Access) -> Response:
    member = await member_here(console, request, access)
    if member is None:
        return console.error(request, access, 404, "error_not_found")
    try:
        password_hash = console.auth.settings.hasher.hash(await form_text(request, "password", 256))
    except PasswordError as exc:
        reason = console.t(
            request, "user_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await page(console, request, access, error=reason, status=400)
    await console.store.console.set_password(member.id, password_hash)
    await audit(console, access, "staff_password_reset", member.id, "from the console users page")
    return await page(console, request, access, notice=console.t(request, "user_saved"))


async def reset_totp(console: Console, request: Request, access: Access) -> Response:
    member = await member_here(console, request, access)
    if member is None:
        return console.error(request, access, 404, "error_not_found")
    if not await confirmed(request):
        return ask_first(
            console,
            request,
            access,
            question=console.t(request, "reset_totp_confirm", name=member.display_name),
            detail=console.t(request, "reset_totp_detail"),
            yes=console.t(request, "reset_totp_yes"),
            back=f"{PREFIX}/users",
        )
    await console.store.console.reset_totp(member.id)
    await audit(console, access, "staff_totp_reset", member.id, "from the console users page")
    return await page(console, request, access, notice=console.t(request, "user_saved"))


async def link_code(console: Console, request: Request, access: Access) -> Response:
    member = await member_here(console, request, access)
    if member is None or not member.active:
        return console.error(request, access, 404, "error_not_found")
    code = await console.store.staff.issue_link_code(member.id, console.clock())
    await audit(console, access, "staff_link_code_issued", member.id, "from the console users page")
    notice = console.t(request, "user_link_code", username=member.username, code=code)
    return await page(console, request, access, notice=notice)


routes = [
    PageRoute("/users", listing, Need.ADMIN),
    PageRoute("/users", add, Need.ADMIN, ("POST",)),
    PageRoute("/users/{staff_id}/roles", set_roles, Need.ADMIN, ("POST",)),
    PageRoute("/users/{staff_id}/active", set_active, Need.ADMIN, ("POST",)),
    PageRoute("/users/{staff_id}/password", reset_password, Need.ADMIN, ("POST",)),
    PageRoute("/users/{staff_id}/totp-reset", reset_totp, Need.ADMIN, ("POST",)),
    PageRoute("/users/{staff_id}/link-code", link_code, Need.ADMIN, ("POST",)),
]
