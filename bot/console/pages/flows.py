"""Flows (admins): see each flow and its diagram, edit and check it, try it, publish, roll back,
and see the typed answers it did not understand (bot.console.pages.missed).

A check loads the whole set with the edited file (bot.flowhost.shelf), so what the
page calls valid is exactly what the bot would load; a publish stores the
version, makes it current for new conversations and writes an audit row.

Two helpers of the editor answer scripts on the page, and work without them:
`validate` checks a draft sent as JSON while the admin types (the Check button
does the same as a form), and `chat` runs the test chat against the checked
draft (bot.console.draft_chat), answering the panel's HTML to a script or the
whole page to a plain form. The picture of a flow is drawn here (flows.diagram).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from markupsafe import Markup
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.booking.host import BookingContext
from bot.console.auth.login import Access, Need
from bot.console.core import Console, PageRoute, form_text
from bot.console.draft_chat import Chat, ChatTokenError, say, start
from bot.console.flow_review import draft_diff, publish_seal, seal_matches
from bot.console.pages import missed
from bot.console.scope import office_flows, office_shelf
from bot.core.pipeline import classify_windows
from bot.flowhost.shelf import LIBRARY_FILES, MAX_SOURCE_CHARS, ShelfError
from bot.handoff.reach import WHO_IS_TOLD
from bot.safety.levels import NO_CONCERN
from bot.web import read_body
from flows.diagram import Legend, diagram
from flows.errors import FlowSetError, Problem
from flows.exchange import ChannelCaps, Context
from flows.library import FlowLibrary
from flows.mermaid import flowchart
from flows.problem_words import describe
from flows.sources import content_version
from storage.privacy.audit import AuditEntry

__all__ = ["routes"]

MAX_JSON_BYTES = MAX_SOURCE_CHARS * 6 + 1024
"""A JSON body at most this long: the largest draft with every character escaped."""
MAX_CHAT_CHARS = 10_000
"""A test-chat message is read up to this long (the bot's own limit then applies)."""
CHAT_CAPS = ChannelCaps(buttons=True, max_choices=10)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _problem_json(problem: Problem, lang: str) -> dict[str, Any]:
    """A problem for the live check: its words in the admin's language, and its parts."""
    return {
        "text": describe(problem, lang),
        "line": problem.line,
        "file": problem.file,
        "path": list(problem.path),
        "message": problem.message,
    }


def flow_id_of(console: Console, request: Request) -> str | None:
    raw = str(request.path_params.get("flow_id", ""))
    return raw if raw in office_shelf(console).library.flow_ids else None


def legend(console: Console, request: Request) -> Legend:
    t = console.t
    return Legend(
        title=t(request, "flow_diagram_title", flow="{flow}"),
        summary=t(request, "flow_diagram_summary", nodes="{nodes}", edges="{edges}", back="{back}"),
        start=t(request, "flow_legend_start"),
        commands=t(request, "flow_legend_commands"),
        say=t(request, "flow_legend_say"),
        ask=t(request, "flow_legend_ask"),
        router=t(request, "flow_legend_router"),
        call=t(request, "flow_legend_call"),
        handoff=t(request, "flow_legend_handoff"),
        outside=t(request, "flow_legend_outside"),
        end=t(request, "flow_legend_end"),
        back=t(request, "flow_legend_back"),
    )


def languages(console: Console, library: FlowLibrary) -> tuple[str, ...]:
    return tuple(lang for lang in console.office.config.languages if lang in library.languages) or (
        library.languages
    )


def chat_context(console: Console, language: str) -> Context:
    """What the flow turns pass the engine (`FlowTurns._context`), minus the calendar;
    a crisis tried here tells who is alerted when a counsellor is on duty."""
    config = console.office.config
    window = BookingContext(None, config.booking.hold_minutes)
    values = window.values(config.context_values(language), language)
    values[WHO_IS_TOLD] = console.office.texts.get("handoff.told.on_duty", language, **values)
    return Context(
        now=console.clock(),
        channel=CHAT_CAPS,
        values=values,
        default_language=config.languages[0],
        options=window.options,
    )


def binding(access: Access, flow_id: str) -> str:
    return f"{access.session_id}|{flow_id}"


def fresh_chat(console: Console, library: FlowLibrary, flow: str, language: str) -> Chat:
    return start(library, flow, language, chat_context(console, language), console.office.texts)


def chat_view(
    console: Console,
    request: Request,
    access: Access,
    flow_id: str,
    library: FlowLibrary | None,
    chat: Chat | None,
    error: str = "",
) -> dict[str, Any]:
    """What the chat panel template needs."""
    shown = library if library is not None else office_shelf(console).library
    return {
        "chat": chat,
        "chat_token": "" if chat is None else console.seal.seal(chat, binding(access, flow_id)),
        "chat_error": error,
        "chat_flows": shown.flow_ids,
        "chat_languages": languages(console, shown),
        "chat_flow": flow_id if chat is None else chat.flow,
        "chat_language": languages(console, shown)[0] if chat is None else chat.language,
    }


async def listing(console: Console, request: Request, access: Access) -> Response:
    library = office_shelf(console).library
    published = await console.store.flow_current.published()
    rows = []
    for fid in library.flow_ids:
        flow = library.flow(fid)
        count = sum(1 for p in published if p.flow_id == fid)
        rows.append((fid, flow.name.get(console.lang(request)), flow.version, count))
    shelf = office_shelf(console)
    files = [(f, LIBRARY_FILES[f]) for f in shelf.file_ids]
    return console.render(request, access, "flows.html", rows=rows, files=files)


async def page(
    console: Console,
    request: Request,
    access: Access,
    flow_id: str,
    *,
    draft: str | None = None,
    problems: tuple[Problem, ...] = (),
    checked: FlowLibrary | None = None,
    chat: Chat | None = None,
    chat_error: str = "",
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    library = office_shelf(console).library
    current = office_shelf(console).source(flow_id)
    changed = draft is not None and draft != current
    diff = draft_diff(current, draft) if draft is not None and changed else None
    # Publish is offered for exactly the draft that just passed its check (flow_review).
    seal = ""
    if checked is not None and draft is not None and changed:
        seal = publish_seal(
            console.csrf, access.session_id, flow_id, library.current_version(flow_id), draft
        )
    shown = checked if checked is not None else library
    # The chat runs on the draft the page shows, when that draft is valid.
    unchanged = draft is None or draft == current
    runnable = checked if checked is not None else (library if unchanged else None)
    if chat is None and runnable is not None and not chat_error:
        chat = fresh_chat(console, runnable, flow_id, languages(console, runnable)[0])
    if runnable is None and not chat_error:
        chat_error = console.t(request, "flow_chat_invalid")
    return console.render(
        request,
        access,
        "flow.html",
        status=status,
        flow_id=flow_id,
        flow=library.flow(flow_id),
        current_version=library.current_version(flow_id),
        source=current if draft is None else draft,
        graph=flowchart(shown, flow_id),
        picture=Markup(diagram(shown, flow_id, legend(console, request))),
        published=await console.store.flow_current.published(flow_id),
        problems=[describe(p, console.lang(request)) for p in problems],
        checked=checked is not None,
        diff=diff,
        draft_version=content_version(draft) if draft is not None else "",
        seal=seal,
        same=draft is not None and draft == current,
        notice=notice,
        error=error,
        office_tz=console.office.config.office.tz,
        missed=await missed.load(console, access, library.flow(flow_id), console.lang(request)),
        **chat_view(console, request, access, flow_id, runnable, chat, chat_error),
    )


async def view(console: Console, request: Request, access: Access) -> Response:
    flow_id = flow_id_of(console, request)
    if flow_id is None:
        return console.error(request, access, 404, "error_not_found")
    return await page(console, request, access, flow_id)


async def draft_of(request: Request) -> str | None:
    """The edited source: an uploaded file if one was chosen, else the text area."""
    form = await request.form()
    upload = form.get("upload")
    data = b""
    if isinstance(upload, UploadFile):
        try:
            data = await upload.read(MAX_SOURCE_CHARS * 4 + 1) if upload.filename else b""
        finally:
            await upload.close()
    if data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return text.replace("\r\n", "\n") if len(text) <= MAX_SOURCE_CHARS else None
    source = form.get("source")
    text = source if isinstance(source, str) else ""
    return text.replace("\r\n", "\n") if len(text) <= MAX_SOURCE_CHARS else None


def checked_draft(console: Console, flow_id: str, draft: str) -> FlowLibrary:
    """The library to run a draft on: the shelf's own when nothing changed (it also
    holds older versions), else the checked set. Raises FlowSetError."""
    if draft == office_shelf(console).source(flow_id):
        return office_shelf(console).library
    return office_shelf(console).check(flow_id, draft)


async def check(console: Console, request: Request, access: Access) -> Response:
    flow_id = flow_id_of(console, request)
    if flow_id is None:
        return console.error(request, access, 404, "error_not_found")
    draft = await draft_of(request)
    if draft is None:
        error = console.t(request, "flow_upload_bad")
        return await page(console, request, access, flow_id, error=error, status=400)
    try:
        checked = office_shelf(console).check(flow_id, draft)
    except FlowSetError as exc:
        return await page(
            console, request, access, flow_id, draft=draft, problems=exc.problems, status=400
        )
    notice = console.t(request, "flow_valid")
    return await page(
        console, request, access, flow_id, draft=draft, checked=checked, notice=notice
    )


async def validate(console: Console, request: Request, access: Access) -> Response:
    """Checks a draft sent as JSON `{"source": ...}`: valid with its size, or every problem."""
    flow_id = flow_id_of(console, request)
    if flow_id is None:
        return JSONResponse({"error": console.t(request, "error_not_found")}, status_code=404)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return JSONResponse({"error": console.t(request, "flow_json_bad")}, status_code=400)
    body = await read_body(request, MAX_JSON_BYTES)
    if body is None:
        return JSONResponse({"error": console.t(request, "flow_json_too_large")}, status_code=413)
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    source = data.get("source") if isinstance(data, dict) else None
    if not isinstance(source, str):
        return JSONResponse({"error": console.t(request, "flow_json_bad")}, status_code=400)
    source = source.replace("\r\n", "\n")
    if len(source) > MAX_SOURCE_CHARS:
        return JSONResponse({"error": console.t(request, "flow_json_too_large")}, status_code=413)
    try:
        checked = office_shelf(console).check(flow_id, source)
    except FlowSetError as exc:
        return JSONResponse(
            {
                "valid": False,
                "summary": console.t(request, "flow_live_problems", count=len(exc.problems)),
                "problems": [_problem_json(p, console.lang(request)) for p in exc.problems],
            }
        )
    nodes = len(checked.flow(flow_id).nodes)
    return JSONResponse(
        {
            "valid": True,
            "nodes": nodes,
            "version": content_version(source),
            "summary": console.t(request, "flow_live_valid", flow=flow_id, nodes=nodes),
            "problems": [],
        }
    )


async def chat(console: Console, request: Request, access: Access) -> Response:
    """One step of the test chat: restart, a pressed button, or a typed message."""
    flow_id = flow_id_of(console, request)
    if flow_id is None:
        return console.error(request, access, 404, "error_not_found")
    form = await request.form()

    def field(name: str, limit: int) -> str:
        """A text field cut to `limit` (a file where text belongs counts as empty)."""
        value = form.get(name)
        return value[:limit] if isinstance(value, str) else ""

    raw_draft = form.get("source")
    if not isinstance(raw_draft, str) or len(raw_draft) > MAX_SOURCE_CHARS:
        return await refuse(console, request, access, flow_id, None, "flow_upload_bad")
    draft, token = raw_draft, field("chat", 1 << 20)
    text, choice = field("text", MAX_CHAT_CHARS), field("choice", 200)
    action = field("action", 20) or "send"
    draft = draft.replace("\r\n", "\n")
    try:
        library = checked_draft(console, flow_id, draft)
    except FlowSetError as exc:
        return await refuse(
            console, request, access, flow_id, draft, "flow_chat_invalid", problems=exc.problems
        )
    wanted_flow = field("chat_flow", 64) or flow_id
    if not library.has_flow(wanted_flow):
        wanted_flow = flow_id
    wanted_language = field("chat_lang", 8) or ""
    if wanted_language not in languages(console, library):
        wanted_language = languages(console, library)[0]
    added = 0  # lines this request adds, for the script to announce
    if action == "restart" or not token:
        current = fresh_chat(console, library, wanted_flow, wanted_language)
        added = current.added
    else:
        try:
            current = console.seal.open(token, binding(access, flow_id))
        except ChatTokenError:
            return await refuse(console, request, access, flow_id, draft, "flow_chat_expired")
    said = choice if choice else text.replace("\r\n", "\n")
    if action != "restart" and said.strip():  # a first message starts the flow first
        kind: Literal["text", "choice"] = "choice" if choice else "text"
        assessment = NO_CONCERN
        if kind == "text":
            assessment = classify_windows(console.classifier, said)
        language = current.state.language if current.state else wanted_language
        current = say(
            current,
            library,
            kind=kind,
            text=said,
            assessment=assessment,
            ctx=chat_context(console, language),
            texts=console.office.texts,
            max_chars=console.office.config.max_message_chars,
        )
        added = min(added + current.added, len(current.lines))
    if _wants_json(request):
        panel = chat_view(console, request, access, flow_id, library, current)
        html = console.render(
            request, access, "flow_chat.html", flow_id=flow_id, source=draft, **panel
        ).body
        return JSONResponse({"html": bytes(html).decode("utf-8"), "added": added})
    return await page(
        console,
        request,
        access,
        flow_id,
        draft=draft,
        checked=library if library is not office_shelf(console).library else None,
        chat=current,
    )


async def refuse(
    console: Console,
    request: Request,
    access: Access,
    flow_id: str,
    draft: str | None,
    key: str,
    problems: tuple[Problem, ...] = (),
) -> Response:
    """A test-chat request that cannot run: 400, as JSON to a script, else the page."""
    message = console.t(request, key)
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=400)
    return await page(
        console,
        request,
        access,
        flow_id,
        draft=draft,
        problems=problems,
        chat_error=message,
        status=400,
    )


async def publish(console: Console, request: Request, access: Access) -> Response:
    flow_id = flow_id_of(console, request)
    if flow_id is None:
        return console.error(request, access, 404, "error_not_found")
    draft = await draft_of(request)
    if draft is None:
        error = console.t(request, "flow_upload_bad")
        return await page(console, request, access, flow_id, error=error, status=400)
    if draft != office_shelf(console).source(flow_id):
        refused = await unchecked(console, request, access, flow_id, draft)
        if refused is not None:
            return refused
    try:
        version, changed = await office_shelf(console).publish(flow_id, draft)
    except FlowSetError as exc:
        return await page(
            console, request, access, flow_id, draft=draft, problems=exc.problems, status=400
        )
    if not changed:
        notice = console.t(request, "flow_unchanged", version=version)
        return await page(console, request, access, flow_id, notice=notice)
    entry = AuditEntry(
        f"staff:{access.member.id}", "flow_published", f"flow:{flow_id}", f"version {version}"
    )
    await console.store.audit.record(entry)
    notice = console.t(request, "flow_published", version=version)
    return await page(console, request, access, flow_id, notice=notice)


async def unchecked(
    console: Console, request: Request, access: Access, flow_id: str, draft: str
) -> Response | None:
    """The page refusing a publish of a draft that did not just pass its check, naming its
    problems if it has any; None when the form carries the seal of exactly this draft."""
    seal = (await request.form()).get("checked")
    base = office_shelf(console).library.current_version(flow_id)
    if isinstance(seal, str) and seal_matches(
        console.csrf, seal, access.session_id, flow_id, base, draft
    ):
        return None
    try:
        office_shelf(console).check(flow_id, draft)
    except FlowSetError as exc:
        return await page(
            console, request, access, flow_id, draft=draft, problems=exc.problems, status=400
        )
    error = console.t(request, "flow_publish_unchecked")
    return await page(console, request, access, flow_id, draft=draft, error=error, status=409)


async def make_current(console: Console, request: Request, access: Access) -> Response:
    flow_id = flow_id_of(console, request)
    if flow_id is None:
        return console.error(request, access, 404, "error_not_found")
    version = await form_text(request, "version", 40)
    before = office_shelf(console).library.current_version(flow_id)
    try:
        await office_shelf(console).make_current(flow_id, version)
    except ShelfError:
        error = console.t(request, "flow_version_unknown")
        return await page(console, request, access, flow_id, error=error, status=400)
    except FlowSetError as exc:
        return await page(console, request, access, flow_id, problems=exc.problems, status=400)
    entry = AuditEntry(
        f"staff:{access.member.id}",
        "flow_rolled_back",
        f"flow:{flow_id}",
        f"version {before} -> {version}",
    )
    await console.store.audit.record(entry)
    notice = console.t(request, "flow_rolled_back", version=version)
    return await page(console, request, access, flow_id, notice=notice)


routes = [
    PageRoute("/flows", office_flows(listing), Need.ADMIN),
    PageRoute("/flows/{flow_id}", office_flows(view), Need.ADMIN),
    PageRoute("/flows/{flow_id}/check", office_flows(check), Need.ADMIN, ("POST",)),
    PageRoute("/flows/{flow_id}/validate", office_flows(validate), Need.ADMIN, ("POST",)),
    PageRoute("/flows/{flow_id}/chat", office_flows(chat), Need.ADMIN, ("POST",)),
    PageRoute("/flows/{flow_id}/publish", office_flows(publish), Need.ADMIN, ("POST",)),
    PageRoute("/flows/{flow_id}/current", office_flows(make_current), Need.ADMIN, ("POST",)),
]
