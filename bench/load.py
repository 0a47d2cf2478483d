"""The load: a fake Bot API server that times replies, and the families' scripts.

`TimedFake` is the test suite's fake Telegram server (tests/fakes/telegram_api.py)
that also notes, per chat, when a message is expected and when the first reply
after it arrived, so latency is measured on one clock (the server's) without
scanning every call.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fakes"))

from starlette.responses import JSONResponse  # noqa: E402

# The test suite's fake lives outside the typed packages.
from telegram_api import FakeTelegram  # type: ignore[import-not-found]  # noqa: E402

from bot.app import open_keyring  # noqa: E402
from bot.config import load_config  # noqa: E402
from storage.store import Store  # noqa: E402

__all__ = ["CRISIS", "ReplyClock", "TimedFake", "add_counsellors", "percentile", "script_for"]

CRISIS = (
    "aku pengen mati aja",
    "suami saya memukuli saya sekarang",
    "beta mau bunuh diri malam ini",
)
_INFO = ("1", "2", "3", "1", "5", "6")
_TRIAGE = ("2", "suami saya sering marah dan pergi berhari-hari", "1", "2", "terima kasih")
_BOOKING = ("3", "1", "1", "1", "menu")
_ROUTINE = ("menu", "1", "2", "terima kasih", "bagaimana cara daftar bansos?", "3")


def script_for(family: int, turns: int, rng: random.Random) -> list[str]:
    """A family's messages after /start and consent: information, triage or booking, 2% crisis."""
    kind = family % 10
    base = _INFO if kind < 4 else _TRIAGE if kind < 8 else _BOOKING
    texts = [base[i % len(base)] for i in range(turns)]
    return [rng.choice(CRISIS) if rng.random() < 0.02 else t for t in texts]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class ReplyClock:
    """Times the first reply to each expected chat or number, on the server's clock.

    Mixed into the fake servers (TimedFake here, bench.whatsapp.TimedTwilio): a
    phase `expect`s a message it offered, the server calls `_sent` for every reply
    it takes, and the phase waits until `answered`, then until `quiet`.
    """

    def _start_clock(self) -> None:
        self.sends = 0
        self.last_send = 0.0
        self.latencies: dict[Any, float] = {}
        self._expected: dict[Any, float] = {}
        self._all_answered = asyncio.Event()

    def expect(self, key: Any, offered_at: float) -> None:
        self._expected[key] = offered_at
        self._all_answered.clear()

    async def answered(self, timeout: float) -> None:
        """Waits until every expected chat got a reply."""
        if self._expected:
            await asyncio.wait_for(self._all_answered.wait(), timeout)

    @property
    def waiting(self) -> int:
        return len(self._expected)

    async def quiet(self, seconds: float = 0.3, limit: float = 60.0) -> None:
        """Waits until no message has been sent for `seconds` (the tail of a turn)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            idle = time.monotonic() - self.last_send
            if idle >= seconds:
                return
            await asyncio.sleep(seconds - idle)

    def _sent(self, key: Any) -> float:
        """Records a reply to `key`; returns the server's clock at that moment."""
        now = time.monotonic()
        self.sends += 1
        self.last_send = now
        offered = self._expected.pop(key, None)
        if offered is not None:
            self.latencies[key] = now - offered
            if not self._expected:
                self._all_answered.set()
        return now


class TimedFake(ReplyClock, FakeTelegram):  # type: ignore[misc]
    """The fake Bot API, timing the first reply to every expected chat."""

    def __init__(self) -> None:
        super().__init__()
        self._start_clock()
        self.rejected = 0
        self.watched: dict[int, list[float]] = {}

    async def _fail_with(self, failure: Any) -> JSONResponse:
        self.rejected += 1
        answer: JSONResponse = await super()._fail_with(failure)
        return answer

    async def _api_sendMessage(self, params: dict[str, Any]) -> JSONResponse:
        chat = int(params.get("chat_id") or 0)
        now = self._sent(chat)
        if chat in self.watched:
            self.watched[chat].append(now)
        answer: JSONResponse = await super()._api_sendMessage(params)
        return answer

    def continue_chat(self, chat_id: int, next_message_id: int) -> None:
        """Numbers this chat's next messages from `next_message_id` (a chat from an
        earlier server: Telegram never reuses a message id within a chat)."""
        self._message_ids[chat_id] = itertools.count(next_message_id)

    def drop_history(self) -> None:
        """Forgets recorded calls and messages so a long run does not grow the server."""
        self.calls.clear()
        self._messages.clear()


async def add_counsellors(config_path: Path, count: int = 4) -> None:
    """Counsellors with hours every day, so booking turns find free times."""
    config = load_config(config_path, env={})
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC)
    keyring = open_keyring(config, env={})
    async with await Store.open(
        config.database_path, keyring, keytree=config.keytree_path, url=config.storage_url
    ) as store:
        for n in range(count):
            member = await store.staff.add(f"konselor{n}", f"Konselor {n}", ["counsellor"], now)
            for day in range(7):
                await store.bookings.add_hours(
                    member.id, day, 8 * 60, 16 * 60, ("kantor", "telepon", "chat"), now
                )
