"""The doctor's `webhooks` line: each configured receiver's state, counts and times only.

    ok    webhooks      provinsi: 12 delivered (last 2026-12-07 09:00Z), 0 pending, 0 given up
    FAIL  webhooks      provinsi: failing, 3 tries in a row (next 09:05Z), 4 pending, ...

Red while a receiver is failing now (its events wait, in order, for it to answer 2xx);
deliveries given up after `MAX_ATTEMPTS` are counted, not red (they are kept for the
operator, `lk3` logs named the status of each try). No line without `[webhooks.*]`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Config

if TYPE_CHECKING:
    from bot.monitoring.doctor import Check
    from storage.figures.hookstate import ReceiverState

__all__ = ["webhooks_check", "describe"]


def _at(moment: datetime | None, *, day: bool = True) -> str:
    if moment is None:
        return "never"
    return moment.strftime("%Y-%m-%d %H:%MZ" if day else "%H:%MZ")


def describe(state: ReceiverState) -> str:
    """One receiver, in a few words: counts, times and whether it fails now."""
    tries = f"{state.failures} {'try' if state.failures == 1 else 'tries'}"
    failing = (
        f"failing, {tries} in a row (next {_at(state.next_try, day=False)}), "
        if state.failures
        else ""
    )
    return (
        f"{state.name}: {failing}{state.delivered} delivered (last {_at(state.last_delivered)}),"
        f" {state.pending} pending, {state.given_up} given up"
    )


def webhooks_check(config: Config) -> Check | None:
    """None without configured receivers; else each one's state, red while one fails."""
    from bot.monitoring.doctor import Check
    from storage.errors import StorageError
    from storage.figures.hookstate import receiver_states

    names = [w.name for w in config.figures.webhooks]
    if not names:
        return None
    try:
        states = receiver_states(config.database_path, config.storage_url)
    except (StorageError, OSError) as exc:
        return Check("webhooks", None, f"not read ({type(exc).__name__})")
    known = {s.name: s for s in states or ()}
    parts = [describe(known[n]) if n in known else f"{n}: no event yet" for n in names]
    failing = [n for n in names if n in known and known[n].failures]
    return Check(
        "webhooks",
        not failing,
        "; ".join(parts),
        f"{', '.join(failing)} does not answer 2xx: check the receiver (lk3's log names"
        " each try's status); its events wait, in order",
    )
