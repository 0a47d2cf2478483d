"""Named places where a test may make the process die, to prove nothing is lost.

`LK3_FAILPOINTS=after_commit` makes the process exit abruptly (no cleanup, no
flush, like a power cut) the first time it passes `after_commit`;
`after_commit@3` the third time. The variable is read once; unset, a failpoint
costs one dictionary lookup.

Points, in the order a message passes them:
- `after_receive`: the inbox row is committed, nothing processed yet;
- `before_commit`: the flow step ran, nothing of the turn is written;
- `after_commit`: session, replies and processed mark are written, nothing sent;
- `after_send`: a reply reached the transport, its sent mark is not written.

And in the leader's escalation: `before_alert`, a case's alert is due and not written
(the leader dies while an urgent case waits for it: the next leader must alert it, once).
"""

from __future__ import annotations

import os
from functools import cache

from bot.digits import digits

__all__ = ["EXIT_CODE", "MESSAGE_POINTS", "POINTS", "armed_failpoints", "failpoint"]

# The points every message passes (a crash at each must lose nothing), then the rest.
MESSAGE_POINTS = frozenset({"after_receive", "before_commit", "after_commit", "after_send"})
POINTS = MESSAGE_POINTS | {"before_alert"}
EXIT_CODE = 86


@cache
def _armed() -> dict[str, list[int]]:
    """Point name -> [passes left before it fires]."""
    armed: dict[str, list[int]] = {}
    for entry in os.environ.get("LK3_FAILPOINTS", "").split(","):
        if not entry.strip():
            continue
        name, _, nth = entry.strip().partition("@")
        if name not in POINTS:
            raise ValueError(f"LK3_FAILPOINTS names an unknown point {name!r}")
        if nth and not digits(nth):
            raise ValueError(f"LK3_FAILPOINTS point {name!r} has a count {nth!r}, not a number")
        armed[name] = [int(nth or "1")]
    return armed


def armed_failpoints() -> frozenset[str]:
    """The armed points; raises ValueError for a mistyped variable, checked at start-up."""
    return frozenset(_armed())


def failpoint(name: str) -> None:
    """Exits the process at once if `name` is armed and its count is reached."""
    left = _armed().get(name)
    if left is None:
        return
    left[0] -= 1
    if left[0] <= 0:
        os._exit(EXIT_CODE)
