"""`/readyz`: whether the bot can do its work now, with a short code for each reason not.

`/healthz` stays the liveness check (the process answers; 503 only while the disk
refuses writes). Readiness asks more: a polling channel heard from lately, the
outbox's oldest due reply not stuck. A reason is a code, never a path, a number or
a word anyone wrote.

    storage_unwritable   the database refuses writes (a full disk, an I/O error)
    storage_unreadable   the database could not be read for the outbox's age
    <channel>_silent     a polling channel (or a webhook, if configured) not heard from
    outbox_stale         the oldest reply due has waited longer than allowed
"""

from __future__ import annotations

from bot.monitoring.sources import Sources

__all__ = ["not_ready"]


async def not_ready(sources: Sources) -> list[str]:
    """The reasons the bot is not ready, in a fixed order; empty when it is."""
    settings = sources.config.health
    reasons: list[str] = []
    if not sources.writes.ok:
        reasons.append("storage_unwritable")
    for name, pulse in sorted(sources.pulses.items()):
        limit = (
            settings.channel_silence_seconds if pulse.polls else settings.webhook_silence_seconds
        )
        if limit and pulse.silent_for() > limit:
            reasons.append(f"{name}_silent")
    now = sources.clock()
    try:
        backlog = await sources.store.monitoring.backlog(now)
    except Exception:
        reasons.append("storage_unreadable")
        return reasons
    if backlog.oldest_due_at is not None:
        age = (now - backlog.oldest_due_at).total_seconds()
        if age > settings.outbox_max_age_seconds:
            reasons.append("outbox_stale")
    return reasons
