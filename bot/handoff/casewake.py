"""The leader's escalation woken at once by a case another process opened.

Escalation runs in the leader only (`bot.core.leadership`). A turn committed in this
process wakes it directly (`App.open`'s `committed`), but an urgent case opened by
another process on the same PostgreSQL database was seen only at the leader's next
nudge (every second) or escalation's own timer. `CaseWake` is one more of the leader's
workers: while this process leads it holds the store's change listener
(`bot.core.live.LiveChanges`, the same LISTEN connection the console's live pages use)
and wakes escalation on every `case:` topic, whichever process committed the case, and
after each (re)connection (what changed while nobody listened was not told). The
nudge stays as the backstop while the listener is down.

On SQLite there is nothing to listen to (one process): `hold` opens no connection and
this worker only waits to be stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.live import LiveChanges
from bot.core.worker import Worker
from storage.store import Store

__all__ = ["CaseWake"]


class CaseWake(Worker):
    """While leading: every `case:` notification wakes `wake` (escalation's)."""

    def __init__(self, store: Store, wake: Callable[[], None]) -> None:
        super().__init__()
        self._live = LiveChanges.of(store)
        self._wake_escalation = wake
        self._listening = False
        self.woken = 0  # how many notifications woke escalation (tests, figures)
        self._live.watch(self._told)

    def _told(self, topic: str | None) -> None:
        if self._listening and (topic is None or topic.startswith("case:")):
            self.woken += 1
            self._wake_escalation()

    @property
    def live(self) -> bool:
        """Whether a case committed elsewhere wakes escalation now (listener connected)."""
        return self._listening and self._live.live

    async def run(self) -> None:
        """Holds the listener until `stop` (the lead lost, or the app stopping)."""
        with self._live.hold():
            self._listening = True
            try:
                while not self._stopping:
                    self._wake.clear()
                    await self._wake.wait()
            finally:
                self._listening = False
        await self._live.settled()  # its connection closed once nobody else holds it

    async def tick(self) -> float:  # pragma: no cover - `run` never calls it
        return 3600.0
