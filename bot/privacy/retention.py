"""Retention: erase, by crypto-shredding, whatever the configured periods say is due.

The rules (`[retention]` in the configuration, read by
`storage.privacy.repo.PrivacyRepo.due_for_erasure`): a withdrawal of consent is
erased at the next run; a first contact that never became a case after
`first_contact_days` of silence; a contact whose cases are all closed after
`closed_case_days`. A case that is not closed keeps its contact, whatever else
applies. Each erasure goes through `ErasureRepo.erase` (rows removed, key
destroyed, key-tree leaf punctured) and writes an audit row. The words of typed
answers the flows did not understand (`storage.flowhost.missed`) are dropped
`first_contact_days` after they were typed, whoever typed them.

The running app runs the job at start and then once a day; `lk3 db purge` runs it
by hand, `--dry-run` only lists what would go. Reports and logs carry counts and
contact ids, never content.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Retention
from bot.core.worker import Worker
from storage.errors import is_storage_fault
from storage.privacy.repo import DueErasure
from storage.store import Store

__all__ = ["PurgeReport", "RetentionJob"]

log = logging.getLogger(__name__)

DAILY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    due: tuple[DueErasure, ...]
    erased: int
    dry_run: bool
    missed_words: int = 0  # answers not understood whose words were dropped for their age

    def counts(self) -> dict[str, int]:
        """How many contacts are due, by reason."""
        return dict(sorted(Counter(d.reason for d in self.due).items()))


class RetentionJob(Worker):
    def __init__(
        self,
        store: Store,
        retention: Retention,
        *,
        clock: Callable[[], datetime],
        interval: timedelta = DAILY,
    ) -> None:
        super().__init__()
        self._store = store
        self._retention = retention
        self._clock = clock
        self._interval = interval

    def _why(self, reason: str) -> str:
        if reason == "withdrawal":
            return "retention: the person withdrew consent"
        if reason == "first_contact":
            return f"retention: no case, silent for {self._retention.first_contact_days} days"
        return f"retention: cases closed more than {self._retention.closed_case_days} days ago"

    async def run_once(self, *, dry_run: bool = False, actor: str = "system") -> PurgeReport:
        """Erases what is due now (or, with `dry_run`, only says what that would be)."""
        due = await self._store.privacy.due_for_erasure(
            self._clock(),
            closed_case_days=self._retention.closed_case_days,
            first_contact_days=self._retention.first_contact_days,
        )
        erased = 0
        if not dry_run:
            for item in due:
                if await self._store.erasure.erase(
                    item.contact_id,
                    reason=f"retention_{item.reason}",
                    actor=actor,
                    why=self._why(item.reason),
                ):
                    erased += 1
        pruned = 0
        if not dry_run:
            # The words of answers the flows did not understand (kept for the console's flow
            # page) go after the shortest period, whatever else the family keeps.
            oldest = self._clock() - timedelta(days=self._retention.first_contact_days)
            pruned = await self._store.missed.prune(oldest)
            # An erasure's statement kept for the web page that asked for it, unread.
            await self._store.webchat.sweep_statements()
        report = PurgeReport(tuple(due), erased, dry_run, pruned)
        if due:
            by_reason = ", ".join(f"{k} {v}" for k, v in report.counts().items())
            log.info(
                "retention: %s %s contact(s) (%s)",
                "would erase" if dry_run else "erased",
                len(due) if dry_run else erased,
                by_reason,
            )
        if pruned:
            log.info("retention: dropped the words of %s answer(s) not understood", pruned)
        return report

    async def tick(self) -> float:
        """Runs now and then every `interval`."""
        await self.run_once()
        return self._interval.total_seconds()

    def failed(self, exc: Exception, failures: int) -> float:
        log.error(
            "retention run failed; trying again at the next run",
            exc_info=None if is_storage_fault(exc) else exc,
        )
        return self._interval.total_seconds()
