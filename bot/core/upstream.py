"""Whether a channel's upstream answers: when it fails, replies wait; when it answers, they go.

A reply that failed because Telegram or Twilio did (a 5xx, a timeout, a refused
connection) waits with a doubling back-off, so a long outage spends few of its
attempts; but when the outage ends, that back-off could keep it waiting many
minutes. While a channel fails, a probe that sends nobody anything (`Probing`:
getMe, the Twilio account) asks every `PROBE_CAP` seconds at most whether it
answers; when it does, one waiting reply goes at once to try the real call, and
once a send succeeds every reply waiting after an upstream fault goes now. The
attempts stay counted, so the bound on sends per reply holds: where the probe
answers but sends still fail (a partial outage), the trial replies come at
doubling intervals (`TRIAL_CAP`) so few attempts are spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping

from bot.backoff import Backoff

__all__ = ["UPSTREAM_CODES", "UpstreamWatch", "upstream_fault"]

log = logging.getLogger(__name__)

# Codes a send is retried with when the upstream failed, not the reply (bot.channels).
UPSTREAM_CODES = (
    "timed_out",
    "network",
    "telegram_error",
    "twilio_500",
    "twilio_502",
    "twilio_503",
    "twilio_504",
    "TimeoutError",
    "OSError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
)
PROBE_FIRST = 0.5
PROBE_CAP = 2.0  # seconds between probes at most: replies resume within this and a send
TRIAL_CAP = 60.0  # seconds between trial replies at most while the probe answers

Pull = Callable[[str, int | None], Awaitable[int]]
"""Brings forward `limit` (None: all) replies of a channel waiting after an upstream fault."""


def upstream_fault(code: str) -> bool:
    """Whether a send retried with `code` failed because the upstream did."""
    return code in UPSTREAM_CODES


class UpstreamWatch:
    """Per channel: failing or not; while failing, probes and trial replies (see module)."""

    def __init__(
        self,
        pull: Pull,
        wake: Callable[[], None],
        probes: Mapping[str, Callable[[], Awaitable[None]] | None],
        *,
        uniform: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pull = pull
        self._wake = wake
        self._probes = dict(probes)
        self._uniform = uniform
        self._monotonic = monotonic
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._since: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def failing(self, channel: str) -> bool:
        return channel in self._since

    def failed(self, channel: str, code: str) -> None:
        """A send failed with `code`: if the upstream failed, watch it until it answers."""
        if not upstream_fault(code) or channel in self._since:
            return
        self._since[channel] = self._monotonic()
        log.warning(
            "%s: the upstream fails (%s); replies wait and go when it answers again",
            channel,
            code,
        )
        self._watchers[channel] = asyncio.create_task(
            self._watch(channel), name=f"upstream-{channel}"
        )

    def succeeded(self, channel: str) -> None:
        """A send went through: the outage (if any) is over, every waiting reply goes now."""
        since = self._since.pop(channel, None)
        if since is None:
            return
        watcher = self._watchers.pop(channel, None)
        if watcher is not None:
            watcher.cancel()
        log.warning(
            "%s: the upstream answers again after %.0fs; waiting replies go now",
            channel,
            self._monotonic() - since,
        )
        self._spawn(self._pull_all(channel))

    async def close(self) -> None:
        tasks = [*self._watchers.values(), *self._tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _spawn(self, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pull_all(self, channel: str) -> None:
        try:
            pulled = await self._pull(channel, None)
        except Exception as exc:
            log.error("%s: waiting replies not brought forward (%s)", channel, type(exc).__name__)
            return
        if pulled:
            log.info("%s: %s waiting replies brought forward", channel, pulled)
        self._wake()

    async def _watch(self, channel: str) -> None:
        probe = self._probes.get(channel)
        pace = Backoff(first=PROBE_FIRST, cap=PROBE_CAP, uniform=self._uniform)
        trials = Backoff(first=1.0, cap=TRIAL_CAP, uniform=self._uniform)
        next_trial = 0.0
        while True:
            await asyncio.sleep(pace.next_wait())
            if probe is not None:
                try:
                    await probe()
                except Exception:
                    # Down all the way: the first answer lets a trial reply go at once.
                    trials.reset()
                    next_trial = 0.0
                    continue
            if self._monotonic() < next_trial:
                continue
            try:
                await self._pull(channel, 1)
            except Exception as exc:
                log.info("%s: no trial reply (%s)", channel, type(exc).__name__)
            self._wake()
            next_trial = self._monotonic() + trials.next_wait()
