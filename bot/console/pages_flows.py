"""Flows (admins): see each flow and its graph, edit and check it, publish, roll back.

A check loads the whole set with the edited file (bot.flow_shelf), so what the
page calls valid is exactly what the bot would load; a publish stores the
version, makes it current for new conversations and writes an audit row.
"""

from __future__ import annotations

import difflib

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth import Access, Need
from bot.console.core import Console, form_text
from bot.console.office import Office
from bot.flow_shelf import MAX_SOURCE_CHARS, ShelfError
from flows.errors import FlowSetError, Problem
from flows.library import FlowLibrary
from flows.mermaid import flowchart
from flows.sources import content_version
from storage.audit import AuditEntry

__all__ = ["register"]


def register(console: Console, office: Office) -> None:
    """Adds the flow pages."""
    shelf = office.flows

    def flow_id_of(request: Request) -> str | None:
        raw = str(request.path_params.get("flow_id", ""))
        return raw if raw in shelf.library.flow_ids else None

    async def listing(request: Request, access: Access) -> Response:
        library = shelf.library
        published = await console.store.flow_current.published()
        rows = []
        for fid in library.flow_ids:
            flow = library.flow(fid)
            count = sum(1 for p in published if p.flow_id == fid)
            rows.append((fid, flow.name.get(console.lang(request)), flow.version, count))
        return console.render(request, access, "flows.html", rows=rows)

    async def page(
        request: Request,
        access: Access,
        flow_id: str,
        *,
        draft: str | None = None,
        problems: tuple[Problem, ...] = (),
        checked: FlowLibrary | None = None,
        notice: str = "",
        error: str = "",
        status: int = 200,
    ) -> Response:
        library = shelf.library
        current = shelf.source(flow_id)
        diff = ""
        if draft is not None and draft != current:
            diff = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    draft.splitlines(keepends=True),
                    f"{flow_id}.toml ({library.current_version(flow_id)})",
                    f"{flow_id}.toml ({content_version(draft)})",
                )
            )
        return console.render(
            request,
            access,
            "flow.html",
            status=status,
            flow_id=flow_id,
            flow=library.flow(flow_id),
            current_version=library.current_version(flow_id),
            source=current if draft is None else draft,
            graph=flowchart(checked if checked is not None else library, flow_id),
            published=await console.store.flow_current.published(flow_id),
            problems=problems,
            checked=checked is not None,
            diff=diff,
            same=draft is not None and draft == current,
            notice=notice,
            error=error,
            office_tz=office.config.office.tz,
        )

    async def view(request: Request, access: Access) -> Response:
        flow_id = flow_id_of(request)
        if flow_id is None:
            return console.error(request, access, 404, "error_not_found")
        return await page(request, access, flow_id)

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

    async def check(request: Request, access: Access) -> Response:
        flow_id = flow_id_of(request)
        if flow_id is None:
            return console.error(request, access, 404, "error_not_found")
        draft = await draft_of(request)
        if draft is None:
            error = console.t(request, "flow_upload_bad")
            return await page(request, access, flow_id, error=error, status=400)
        try:
            checked = shelf.check(flow_id, draft)
        except FlowSetError as exc:
            return await page(
                request, access, flow_id, draft=draft, problems=exc.problems, status=400
            )
        notice = console.t(request, "flow_valid")
        return await page(request, access, flow_id, draft=draft, checked=checked, notice=notice)

    async def publish(request: Request, access: Access) -> Response:
        flow_id = flow_id_of(request)
        if flow_id is None:
            return console.error(request, access, 404, "error_not_found")
        draft = await draft_of(request)
        if draft is None:
            error = console.t(request, "flow_upload_bad")
            return await page(request, access, flow_id, error=error, status=400)
        try:
            version, changed = await shelf.publish(flow_id, draft)
        except FlowSetError as exc:
            return await page(
                request, access, flow_id, draft=draft, problems=exc.problems, status=400
            )
        if not changed:
            notice = console.t(request, "flow_unchanged", version=version)
            return await page(request, access, flow_id, notice=notice)
        entry = AuditEntry(
            f"staff:{access.member.id}", "flow_published", f"flow:{flow_id}", f"version {version}"
        )
        await console.store.audit.record(entry)
        notice = console.t(request, "flow_published", version=version)
        return await page(request, access, flow_id, notice=notice)

    async def make_current(request: Request, access: Access) -> Response:
        flow_id = flow_id_of(request)
        if flow_id is None:
            return console.error(request, access, 404, "error_not_found")
        version = await form_text(request, "version", 40)
        before = shelf.library.current_version(flow_id)
        try:
            await shelf.make_current(flow_id, version)
        except ShelfError:
            error = console.t(request, "flow_version_unknown")
            return await page(request, access, flow_id, error=error, status=400)
        except FlowSetError as exc:
            return await page(request, access, flow_id, problems=exc.problems, status=400)
        entry = AuditEntry(
            f"staff:{access.member.id}",
            "flow_rolled_back",
            f"flow:{flow_id}",
            f"version {before} -> {version}",
        )
        await console.store.audit.record(entry)
        notice = console.t(request, "flow_rolled_back", version=version)
        return await page(request, access, flow_id, notice=notice)

    console.add("/flows", listing, Need.ADMIN)
    console.add("/flows/{flow_id}", view, Need.ADMIN)
    console.add("/flows/{flow_id}/check", check, Need.ADMIN, ("POST",))
    console.add("/flows/{flow_id}/publish", publish, Need.ADMIN, ("POST",))
    console.add("/flows/{flow_id}/current", make_current, Need.ADMIN, ("POST",))
