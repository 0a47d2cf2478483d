"""An office's `globals.toml` and `faq.toml` (admins): the commands, everyday words and
FAQ answers of the reader's office, checked and published like a flow.

Each office's library is complete and its own (bot.flowhost.shelf, `LIBRARY_FILES`):
an admin publishing the FAQ here changes what their office's families are told and
nobody else's. As on a flow's page, only the draft that has just passed its check
(the seal of bot.console.flow_review) is published, and a publish writes an audit row.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need
from bot.console.core import Console, PageRoute
from bot.console.flow_review import draft_diff, publish_seal, seal_matches
from bot.console.pages.flows import draft_of
from bot.console.scope import office_flows, office_shelf
from bot.flowhost.shelf import LIBRARY_FILES
from flows.errors import FlowSetError, Problem
from flows.problem_words import describe
from flows.sources import content_version
from storage.privacy.audit import AuditEntry

__all__ = ["routes"]


def _file_id(console: Console, request: Request) -> str | None:
    raw = str(request.path_params.get("file_id", ""))
    return raw if raw in office_shelf(console).file_ids else None


def _sealed_as(file_id: str) -> str:
    """What a seal binds: never a flow's id (`file:faq`)."""
    return f"file:{file_id}"


async def page(
    console: Console,
    request: Request,
    access: Access,
    file_id: str,
    *,
    draft: str | None = None,
    problems: tuple[Problem, ...] = (),
    checked: bool = False,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    current = office_shelf(console).file_source(file_id)
    version = content_version(current)
    changed = draft is not None and draft != current
    seal = ""
    if checked and draft is not None and changed:
        seal = publish_seal(console.csrf, access.session_id, _sealed_as(file_id), version, draft)
    return console.render(
        request,
        access,
        "library_file.html",
        status=status,
        file_id=file_id,
        file_name=LIBRARY_FILES[file_id],
        current_version=version,
        source=current if draft is None else draft,
        diff=draft_diff(current, draft) if draft is not None and changed else None,
        draft_version=content_version(draft) if draft is not None else "",
        seal=seal,
        problems=[describe(p, console.lang(request)) for p in problems],
        notice=notice,
        error=error,
    )


async def view(console: Console, request: Request, access: Access) -> Response:
    file_id = _file_id(console, request)
    if file_id is None:
        return console.error(request, access, 404, "error_not_found")
    return await page(console, request, access, file_id)


async def check(console: Console, request: Request, access: Access) -> Response:
    file_id = _file_id(console, request)
    if file_id is None:
        return console.error(request, access, 404, "error_not_found")
    draft = await draft_of(request)
    if draft is None:
        error = console.t(request, "flow_upload_bad")
        return await page(console, request, access, file_id, error=error, status=400)
    try:
        office_shelf(console).check_file(file_id, draft)
    except FlowSetError as exc:
        return await page(
            console, request, access, file_id, draft=draft, problems=exc.problems, status=400
        )
    notice = console.t(request, "library_valid")
    return await page(console, request, access, file_id, draft=draft, checked=True, notice=notice)


async def publish(console: Console, request: Request, access: Access) -> Response:
    file_id = _file_id(console, request)
    if file_id is None:
        return console.error(request, access, 404, "error_not_found")
    draft = await draft_of(request)
    if draft is None:
        error = console.t(request, "flow_upload_bad")
        return await page(console, request, access, file_id, error=error, status=400)
    shelf = office_shelf(console)
    current = shelf.file_source(file_id)
    seal = (await request.form()).get("checked")
    sealed = isinstance(seal, str) and seal_matches(
        console.csrf,
        seal,
        access.session_id,
        _sealed_as(file_id),
        content_version(current),
        draft,
    )
    try:
        if draft != current and not sealed:
            shelf.check_file(file_id, draft)  # its problems, if it has any
            error = console.t(request, "flow_publish_unchecked")
            return await page(
                console, request, access, file_id, draft=draft, error=error, status=409
            )
        version, changed = await shelf.publish_file(file_id, draft)
    except FlowSetError as exc:
        return await page(
            console, request, access, file_id, draft=draft, problems=exc.problems, status=400
        )
    if not changed:
        notice = console.t(request, "flow_unchanged", version=version)
        return await page(console, request, access, file_id, notice=notice)
    entry = AuditEntry(
        f"staff:{access.member.id}",
        "library_published",
        f"file:{LIBRARY_FILES[file_id]}",
        f"version {version}",
    )
    await console.store.audit.record(entry)
    notice = console.t(request, "library_published", version=version)
    return await page(console, request, access, file_id, notice=notice)


routes = [
    PageRoute("/library/{file_id}", office_flows(view), Need.ADMIN),
    PageRoute("/library/{file_id}/check", office_flows(check), Need.ADMIN, ("POST",)),
    PageRoute("/library/{file_id}/publish", office_flows(publish), Need.ADMIN, ("POST",)),
]
