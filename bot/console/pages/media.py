"""A family's photo or voice note on the case page (`/console/cases/{code}/media/{id}`).

Served only to whoever may read the case (`case.readable`: a supervisor, or the
counsellor who took it), only for a file of that case's family received before
the case closed, and a session's first read of each file (whatever range it asks
for: a player asks again for later ranges) is audited as a `media_view` before any
byte goes.
The type comes from the allow-list (`bot.channels.media.ALLOWED`), never from
what the sender declared; it is shown inline, never sniffed, never cached.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from starlette.requests import Request
from starlette.responses import Response

from bot.channels.media import ALLOWED
from bot.console.auth.login import Access, Need
from bot.console.core import Console, PageRoute
from bot.console.pages.case import readable
from storage.handoff.records import LiveCase

__all__ = ["routes"]

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}


# (session id, media id) pairs already audited: the first read of each is.
_AUDITED: OrderedDict[tuple[str, int], None] = OrderedDict()
MAX_AUDITED = 10_000


async def media(console: Console, request: Request, access: Access) -> Response:
    found = await readable(console, request, access)
    if not isinstance(found, LiveCase):
        return found
    case = found
    media_id = request.path_params.get("media_id")
    content = None if not isinstance(media_id, int) else await console.store.media.content(media_id)
    if (
        content is None
        or content.contact_id != case.contact_id
        or content.mime not in ALLOWED
        or (case.closed_at is not None and content.received_at > case.closed_at)
    ):
        return console.error(request, access, 404, "error_not_found")
    size = len(content.data)
    wanted = _range(request.headers.get("range", ""), size)
    if wanted is None:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = wanted
    if _first_read(access.session_id, content.id):
        await console.audit(
            access,
            "media_view",
            f"case:{case.code},contact:{case.contact_id},media:{content.id}",
            f"a family's {content.kind} opened on the case page",
        )
    headers = {
        "Content-Disposition": (
            f'inline; filename="{case.code}-{content.id}.{_EXTENSIONS[content.mime]}"'
        ),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Accept-Ranges": "bytes",
    }
    if "range" not in request.headers:
        return Response(content.data, media_type=content.mime, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    body = content.data[start : end + 1]
    return Response(body, status_code=206, media_type=content.mime, headers=headers)


def _first_read(session_id: str, media_id: int) -> bool:
    """True the first time a session reads this file, whatever part it asks for: a
    player may start anywhere (or a script at byte 1), and every read is a disclosure.
    Remembered in memory, bounded: after a restart the next read is audited again."""
    key = (session_id, media_id)
    if key in _AUDITED:
        return False
    _AUDITED[key] = None
    if len(_AUDITED) > MAX_AUDITED:
        _AUDITED.popitem(last=False)
    return True


def _range(header: str, size: int) -> tuple[int, int] | None:
    """The byte range asked for (the whole file without a header); None when unsatisfiable."""
    if not header:
        return (0, max(0, size - 1))
    found = _RANGE.fullmatch(header.strip())
    if found is None:
        return (0, max(0, size - 1))  # a form we do not serve in parts: the whole file
    first, last = found.groups()
    if not first:  # the last N bytes
        if not last or int(last) == 0:
            return None
        return (max(0, size - int(last)), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return (start, end)


routes = [PageRoute("/cases/{case_code}/media/{media_id:int}", media, Need.CASES)]
