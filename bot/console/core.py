"""The console's request handling: who is asking, may they, and the page back with safe headers.

Each page module declares its endpoints at module level, `async def name(console,
request, access)`, and a `routes` list of `PageRoute`s that `Console.include` adds.
Every endpoint is wrapped by the console's guard, which resolves the
session cookie, refuses what the role may not see (403) or sends a stranger to
the login page, checks the CSRF token of every POST, and adds the security
headers (a strict Content-Security-Policy with no inline script, no framing,
no referrer). Templates are Jinja2 with autoescaping, so whatever a family or
a staff member typed is shown as text.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.console.auth.login import Access, Authenticator, AuthSettings, Need, allowed
from bot.console.draft_chat import ChatSeal
from bot.console.i18n import LANGUAGES, ConsoleTexts
from bot.console.unstorable import holds_unstorable
from bot.safety import Classifier
from bot.web import CsrfKey
from storage.privacy.audit import AuditEntry
from storage.store import Store

if TYPE_CHECKING:
    from bot.console.case_desk import CaseDesk
    from bot.console.office import Office

__all__ = ["PREFIX", "Console", "ConsoleRoute", "Handler", "PageRoute", "SECURITY_HEADERS"]

PREFIX = "/console"
SESSION_COOKIE = "lk3_session"
PRE_COOKIE = "lk3_pre"
LANG_COOKIE = "lk3_lang"
CSRF_HEADER = "X-CSRF-Token"
_HERE = Path(__file__).parent

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request, Any], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


PageHandler = Callable[["Console", Request, Any], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class PageRoute:
    """One page of a page module's `routes`: who may open it, and by which methods."""

    path: str
    handler: PageHandler
    need: Need
    methods: tuple[str, ...] = ("GET",)


@dataclass(frozen=True, slots=True)
class ConsoleRoute:
    path: str
    endpoint: Endpoint
    methods: tuple[str, ...]


class Console:
    """Shared by every page module: the store, the authenticator, the texts and templates."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        secure_cookies: bool,
        settings: AuthSettings | None = None,
        csrf_key: bytes | None = None,
        seal_key: bytes | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.secure_cookies = secure_cookies
        self.auth = Authenticator(store, settings or AuthSettings(), clock)
        self.csrf = CsrfKey(csrf_key)
        self.texts = ConsoleTexts.load()
        self.templates = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._handlers: dict[str, dict[str, Endpoint]] = {}
        self.needs: dict[tuple[str, str], Need] = {}
        # Run when the web server stops (pages that hold streams open end them here).
        self.stop_hooks: list[Callable[[], None]] = []
        # What the office and case pages need from the running bot (bot.console.app).
        self._office: Office | None = None
        self._desk: CaseDesk | None = None
        self.seal = ChatSeal(seal_key)  # the flows page's test chat tokens

    @property
    def office(self) -> Office:
        if self._office is None:
            raise RuntimeError("a console page needs the office, but none was given")
        return self._office

    @property
    def desk(self) -> CaseDesk:
        if self._desk is None:
            raise RuntimeError("a console page needs the case desk, but none was given")
        return self._desk

    @property
    def has_desk(self) -> bool:
        """Whether the queue and case pages run here (`build_console` was given the office)."""
        return self._desk is not None

    def serve(self, office: Office | None = None, desk: CaseDesk | None = None) -> None:
        """Hands the console the running bot's office and case desk (`build_console`)."""
        self._office, self._desk = office, desk

    @functools.cached_property
    def classifier(self) -> Classifier:
        """The crisis check the flows page's test chat runs, as the bot does."""
        return Classifier.bundled()

    # --- registration --------------------------------------------------------

    def include(self, routes: Iterable[PageRoute]) -> None:
        """Adds a page module's routes."""
        for route in routes:
            handler = functools.partial(route.handler, self)
            self.add(route.path, handler, route.need, route.methods)

    def add(
        self, path: str, handler: Handler, need: Need, methods: tuple[str, ...] = ("GET",)
    ) -> None:
        for method in methods:
            self._handlers.setdefault(PREFIX + path, {})[method] = self._guard(handler, need)
            self.needs[(method, PREFIX + path)] = need

    @property
    def routes(self) -> list[ConsoleRoute]:
        """One route per path, dispatching on the method (the web server takes a path once)."""
        out = []
        for path, by_method in self._handlers.items():

            def make(table: dict[str, Endpoint]) -> Endpoint:
                async def endpoint(request: Request) -> Response:
                    if await holds_unstorable(request):  # before any page reads the database
                        return self.finish(request, self.error(request, None, 400, "error_text"))
                    return await table[request.method](request)

                return endpoint

            out.append(ConsoleRoute(path, make(dict(by_method)), tuple(by_method)))
        return out

    def _guard(self, handler: Handler, need: Need) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            access = await self.access(request)
            if request.method == "POST" and not await self._csrf_ok(request, access):
                response: Response = self.error(request, access, 403, "error_csrf")
            elif need is Need.PUBLIC:
                response = await handler(request, access)
            elif access is None or access.stage != "full":
                if access is not None and access.stage == "totp":
                    response = RedirectResponse(PREFIX + "/totp", status_code=303)
                elif access is not None and access.stage == "enrol":
                    response = RedirectResponse(PREFIX + "/enrol", status_code=303)
                else:
                    response = RedirectResponse(PREFIX + "/login", status_code=303)
            elif not allowed(need, access.member.roles):
                response = self.error(request, access, 403, "error_forbidden")
            else:
                response = await handler(request, access)
            return self.finish(request, response)

        return endpoint

    # --- sessions ------------------------------------------------------------

    async def access(self, request: Request) -> Access | None:
        cached = request.scope.get("lk3_access", False)
        if cached is not False:
            return cached  # type: ignore[no-any-return]
        session_id = request.cookies.get(SESSION_COOKIE, "")
        found = await self.auth.resume(session_id)
        access = None
        if found is not None:
            session, member = found
            await self.store.console.touch_session(session_id)
            access = Access(member, session_id, session.stage)
        request.scope["lk3_access"] = access
        return access

    async def start_session(self, request: Request, member_id: int, stage: str) -> str:
        old = request.cookies.get(SESSION_COOKIE, "")
        if old:
            await self.store.console.end_session(old)
        session_id = secrets.token_urlsafe(32)
        await self.store.console.start_session(session_id, member_id, stage)
        request.scope["lk3_new_session"] = session_id
        return session_id

    def end_session_cookie(self, request: Request) -> None:
        request.scope["lk3_new_session"] = ""

    # --- CSRF ----------------------------------------------------------------

    def _binding(self, request: Request, access: Access | None) -> str:
        if access is not None:
            return "s:" + access.session_id
        pre = request.scope.get("lk3_pre") or request.cookies.get(PRE_COOKIE, "")
        if not pre:
            pre = secrets.token_urlsafe(24)
            request.scope["lk3_pre"] = pre
        return "p:" + str(pre)

    def csrf_token(self, request: Request, access: Access | None) -> str:
        return self.csrf.token(self._binding(request, access))

    async def _csrf_ok(self, request: Request, access: Access | None) -> bool:
        if access is None and not request.cookies.get(PRE_COOKIE):
            return False
        # A script sending JSON puts the token in a header (a page elsewhere cannot set
        # one); forms carry it in a field.
        token: object = request.headers.get(CSRF_HEADER)
        if token is None:
            token = (await request.form()).get("csrf")
        return isinstance(token, str) and self.csrf.check(self._binding(request, access), token)

    # --- rendering -----------------------------------------------------------

    def lang(self, request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, "id")
        return lang if lang in LANGUAGES else "id"

    def t(self, request: Request, key: str, **values: object) -> str:
        return self.texts.get(key, self.lang(request), **values)

    def render(
        self,
        request: Request,
        access: Access | None,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        lang = self.lang(request)

        def t(key: str, **values: object) -> str:
            return self.texts.get(key, lang, **values)

        def named(prefix: str, code: str) -> str:
            """A code's words (`flow_error_dead_end`), or the code when none are written."""
            key = f"{prefix}_{code}"
            return t(key) if key in self.texts.table else code

        html = self.templates.get_template(template).render(
            t=t,
            named=named,
            lang=lang,
            me=None if access is None or access.stage != "full" else access.member,
            csrf=self.csrf_token(request, access),
            prefix=PREFIX,
            path=request.url.path,
            alarm_ready=self._desk is not None,  # the emergency alarm on every page
            **context,
        )
        return HTMLResponse(html, status_code=status)

    async def audit(self, access: Access, action: str, subject: str, reason: str) -> None:
        """One audit row for what `access` just did: codes and ids, never a family's words."""
        await self.store.audit.record(
            AuditEntry(f"staff:{access.member.id}", action, subject, reason)
        )

    def error(self, request: Request, access: Access | None, status: int, key: str) -> Response:
        return self.render(request, access, "error.html", status=status, message_key=key)

    def finish(self, request: Request, response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        secure = self.secure_cookies
        new_session = request.scope.get("lk3_new_session")
        if new_session is not None:
            if new_session:
                response.set_cookie(
                    SESSION_COOKIE,
                    new_session,
                    path=PREFIX,
                    secure=secure,
                    httponly=True,
                    samesite="strict",
                )
            else:
                response.delete_cookie(
                    SESSION_COOKIE, path=PREFIX, secure=secure, httponly=True, samesite="strict"
                )
        pre = request.scope.get("lk3_pre")
        if pre and not request.cookies.get(PRE_COOKIE):
            response.set_cookie(
                PRE_COOKIE, str(pre), path=PREFIX, secure=secure, httponly=True, samesite="strict"
            )
        lang = request.scope.get("lk3_set_lang")
        if lang:
            response.set_cookie(
                LANG_COOKIE,
                str(lang),
                path=PREFIX,
                secure=secure,
                httponly=True,
                samesite="strict",
                max_age=365 * 24 * 3600,
            )
        return response


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(PREFIX + path, status_code=303)


async def form_text(request: Request, name: str, limit: int = 200) -> str:
    value = (await request.form()).get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"
