"""A second step before anything that cannot be taken back (close, release, no-show,
deactivate, reset a second factor).

The first press of such a button posts its form without `confirm=yes`; the page
answers with a question that names what will happen and a second form, posted to
the same address with the same fields and `confirm=yes`, beside a way back. It
is plain HTML, so it works without JavaScript, and one stray tap on a phone
changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access
from bot.console.core import Console

__all__ = ["ask_first", "confirmed"]


async def confirmed(request: Request) -> bool:
    """Whether this post is the second, confirming step."""
    return (await request.form()).get("confirm") == "yes"


def ask_first(
    console: Console,
    request: Request,
    access: Access,
    *,
    question: str,
    detail: str = "",
    yes: str,
    back: str,
    fields: Sequence[tuple[str, str]] = (),
) -> Response:
    """The confirmation page: `question`, `detail`, a `yes` button and a way `back`."""
    action = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return console.render(
        request,
        access,
        "confirm.html",
        question=question,
        detail=detail,
        yes=yes,
        back=back,
        action=action,
        fields=list(fields),
    )
