"""The console's edge for text the database cannot keep (bot.storable): refused, kindly.

A NUL in a form field, the address or a cookie would reach PostgreSQL, which refuses
the statement (SQLite kept it): a 500 for a staff member who only pasted odd text.
Every console request is looked at here first, before any page reads the database,
and one that holds such a character is answered 400 with a page saying what to do.
"""

from __future__ import annotations

from starlette.requests import Request

from bot.storable import unstorable

__all__ = ["holds_unstorable"]

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def holds_unstorable(request: Request) -> bool:
    """Whether the path, the query, a cookie or a form field holds such a character."""
    texts = [request.scope.get("path", ""), *request.path_params.values()]
    texts += [part for pair in request.query_params.multi_items() for part in pair]
    texts += [part for pair in request.cookies.items() for part in pair]
    if request.method == "POST" and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        form = await request.form()  # parsed once: the page reads the same form after
        texts += [key for key in form] + [v for v in form.values() if isinstance(v, str)]
    return any(isinstance(text, str) and unstorable(text) for text in texts)
