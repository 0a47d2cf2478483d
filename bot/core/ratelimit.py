"""Sending limits per channel: overall messages per second, and a gap per chat.

Pure bookkeeping on a clock the caller passes in, so the sender can ask "when
may I send to this person?" without sleeping inside the limiter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RateLimiter"]


# Of a transport's stated rate, the share the bucket refills; the rest is the burst.
# Telegram answers 429 (and blocks every send for a second or more) as soon as more
# than its ~30 messages fall in one second; a bucket allowing a full second's burst
# on top of a full rate could put twice that in a second. With these, no second
# ever holds more than the stated rate (a tenth as a burst plus nine tenths as
# refill), and sends are spread evenly instead of leaving in lumps.
REFILL_SHARE = 0.9


@dataclass(slots=True)
class RateLimiter:
    """A token bucket for the whole channel plus a minimum interval per chat.

    `per_second` is the transport's limit; no window of one second is given more
    than that many tokens (see REFILL_SHARE).
    """

    per_second: float
    per_chat_interval: float
    burst: float = 0.0
    _tokens: float = field(default=0.0, init=False)
    _rate: float = field(default=0.0, init=False)
    _stamp: float | None = field(default=None, init=False)
    _last_by_chat: dict[str, float] = field(default_factory=dict, init=False)
    _blocked_until: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.burst <= 0:
            self.burst = max(1.0, round(self.per_second * (1 - REFILL_SHARE), 6))
        self._rate = self.per_second * REFILL_SHARE
        self._tokens = self.burst

    def share(self, processes: int) -> None:
        """Sends at 1/`processes` of the rate: the processes sharing one bot token
        (PostgreSQL) together never exceed the transport's limit (bot.core.outbox)."""
        part = self.per_second / max(1, processes)
        self._rate = part * REFILL_SHARE
        self.burst = max(1.0, round(part * (1 - REFILL_SHARE), 6))
        self._tokens = min(self._tokens, self.burst)

    def _refill(self, now: float) -> None:
        if self._stamp is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def wait_time(self, chat: str, now: float) -> float:
        """Seconds until a message to `chat` may go; 0 when it may go now."""
        self._refill(now)
        waits = [self._blocked_until - now]
        if self._tokens < 1 - 1e-9:  # not a rounding error's worth of wait
            waits.append((1 - self._tokens) / self._rate)
        last = self._last_by_chat.get(chat)
        if last is not None:
            waits.append(last + self.per_chat_interval - now)
        return max(0.0, *waits)

    def take(self, chat: str, now: float) -> None:
        """Records a send to `chat` at `now`."""
        self._refill(now)
        self._tokens -= 1
        self._last_by_chat[chat] = now
        if len(self._last_by_chat) > 10_000:
            horizon = now - self.per_chat_interval
            self._last_by_chat = {c: t for c, t in self._last_by_chat.items() if t > horizon}

    def block_chat(self, chat: str, seconds: float, now: float) -> None:
        """Holds one chat for `seconds` (a transport's `retry_after` for that chat)."""
        until = now + seconds - self.per_chat_interval
        self._last_by_chat[chat] = max(self._last_by_chat.get(chat, until), until)

    def block(self, seconds: float, now: float) -> None:
        """Pauses the whole channel, as a transport's `retry_after` asks."""
        self._blocked_until = max(self._blocked_until, now + seconds)
