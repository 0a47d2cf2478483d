"""Login, the second factor, TOTP enrolment, logout, the language switch and static files
(the home page is bot.console.pages.home)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import segno
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.console.auth.login import Access, LoginResult, Need, SecondFactor, totp_required
from bot.console.core import Console, PageRoute, client_ip, form_text, redirect
from bot.console.i18n import LANGUAGES

__all__ = ["routes"]

_STATIC = Path(__file__).parent.parent / "static"
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
STATIC_FILES = {p.name: p for p in _STATIC.iterdir() if p.suffix in _STATIC_TYPES}


# Why the login page is shown again (`?msg=`): fixed codes, looked up in texts.toml.
LOGIN_NOTICES = {"restart": "totp_restart"}
_SECOND_FACTOR_ERRORS = {SecondFactor.BAD: "totp_bad", SecondFactor.LOCKED: "totp_locked"}


async def login_page(console: Console, request: Request, access: Access | None) -> Response:
    key = LOGIN_NOTICES.get(request.query_params.get("msg", ""))
    # With the caller's session, if any, so the form's token matches the one its post checks
    # (someone back at the password from the code page would otherwise see "expired").
    return console.render(request, access, "login.html", error_key=key)


async def login(console: Console, request: Request, access: Access | None) -> Response:
    username = await form_text(request, "username", 64)
    password = (await request.form()).get("password")
    password = password[:1024] if isinstance(password, str) else ""
    result, member = await console.auth.password_login(username, password, client_ip(request))
    if result is not LoginResult.OK or member is None:
        key = "login_locked" if result is LoginResult.LOCKED else "login_bad"
        return console.render(request, access, "login.html", status=401, error_key=key)
    creds = await console.store.console.credentials(member.id)
    if creds.totp_confirmed:
        stage = "totp"
    elif totp_required(member):
        stage = "enrol"
    else:
        stage = "full"
    await console.start_session(request, member.id, stage)
    return redirect({"totp": "/totp", "enrol": "/enrol", "full": "/"}[stage])


async def totp_page(console: Console, request: Request, access: Access | None) -> Response:
    if access is None or access.stage != "totp":
        return redirect("/login")
    return console.render(request, access, "totp.html")


async def totp(console: Console, request: Request, access: Access | None) -> Response:
    if access is None or access.stage != "totp":
        return redirect("/login")
    code = await form_text(request, "code", 12)
    result = await console.auth.second_factor(access, code, client_ip(request))
    if result is SecondFactor.RESTART:
        console.end_session_cookie(request)
        return redirect("/login?msg=restart")
    if result is not SecondFactor.OK:
        key = _SECOND_FACTOR_ERRORS[result]
        return console.render(request, access, "totp.html", status=401, error_key=key)
    await console.start_session(request, access.member.id, "full")
    return redirect("/")


async def enrol_page(console: Console, request: Request, access: Access | None) -> Response:
    if access is None or access.stage not in ("enrol", "full"):
        return redirect("/login")
    secret = await console.store.console.totp_secret(access.member.id)
    creds = await console.store.console.credentials(access.member.id)
    if creds.totp_confirmed:
        return console.render(request, access, "enrol.html", enrolled=True)
    if secret is None:
        secret = await console.auth.new_totp_secret(access.member)
    uri = console.auth.provisioning_uri(access.member, secret)
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2)
    qr = "data:image/svg+xml;base64," + _b64(buffer.getvalue())
    error_key = {"1": "totp_bad", "locked": "totp_locked"}.get(
        request.query_params.get("error", "")
    )
    return console.render(
        request,
        access,
        "enrol.html",
        enrolled=False,
        secret=secret,
        uri=uri,
        qr=qr,
        error_key=error_key,
    )


async def enrol(console: Console, request: Request, access: Access | None) -> Response:
    if access is None or access.stage not in ("enrol", "full"):
        return redirect("/login")
    if (await console.store.console.credentials(access.member.id)).totp_confirmed:
        return redirect("/")  # nothing to confirm: no code is checked here
    code = await form_text(request, "code", 12)
    result = await console.auth.second_factor(access, code, client_ip(request))
    if result is SecondFactor.RESTART:
        console.end_session_cookie(request)
        return redirect("/login?msg=restart")
    if result is not SecondFactor.OK:
        return redirect("/enrol?error=" + ("locked" if result is SecondFactor.LOCKED else "1"))
    await console.start_session(request, access.member.id, "full")
    return redirect("/")


async def logout(console: Console, request: Request, access: Access | None) -> Response:
    if access is not None:
        await console.store.console.end_session(access.session_id)
    console.end_session_cookie(request)
    return redirect("/login")


async def set_lang(console: Console, request: Request, access: Access | None) -> Response:
    lang = await form_text(request, "lang", 4)
    if lang in LANGUAGES:
        request.scope["lk3_set_lang"] = lang
    back = await form_text(request, "back", 200)
    target = back if back.startswith("/console/") and "//" not in back else "/console/"
    return redirect(target.removeprefix("/console"))


async def static(console: Console, request: Request, access: Access | None) -> Response:
    path = STATIC_FILES.get(str(request.path_params.get("name", "")))
    if path is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(
        path.read_bytes(),
        media_type=_STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600"},
    )


routes = [
    PageRoute("/login", login_page, Need.PUBLIC),
    PageRoute("/login", login, Need.PUBLIC, ("POST",)),
    PageRoute("/totp", totp_page, Need.PUBLIC),
    PageRoute("/totp", totp, Need.PUBLIC, ("POST",)),
    PageRoute("/enrol", enrol_page, Need.PUBLIC),
    PageRoute("/enrol", enrol, Need.PUBLIC, ("POST",)),
    PageRoute("/logout", logout, Need.PUBLIC, ("POST",)),
    PageRoute("/lang", set_lang, Need.PUBLIC, ("POST",)),
    PageRoute("/static/{name}", static, Need.PUBLIC),
]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
