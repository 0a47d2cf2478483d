"""A contact's messages processed under a claim, when several processes share the work.

With PostgreSQL any process may have stored a contact's message (a WhatsApp
webhook reaches whichever process the proxy chose), and any may process it, but
only one at a time, in the order they were stored. `drain_claimed` does what the
pipeline's own per-contact queue does within one process, across processes:

1. claim the contact (`storage.engine.claims`); if another process holds it, do
   nothing: that process processes this message too (step 4), and if it dies,
   the recovery sweep of a live process claims the contact a moment later;
2. read the contact's unprocessed messages from the database and process them,
   oldest first, whichever process received them; read again before each message
   that was not in the last read (one this process received meanwhile): another
   process may have stored an older one since, refused by this claim;
3. release the claim;
4. after releasing, read again: a message stored meanwhile by a process whose
   claim was refused (because this one held it) is seen now, and claimed again.

Step 4 comes after the release, never before: a process refused at any moment
before the release stored its message before asking, so the read after the
release sees it. Every message is processed by some live process, and the
processed mark, checked inside the turn's commit, keeps it to once.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Awaitable, Callable

from storage.engine.claims import Claims

__all__ = ["drain_claimed"]

log = logging.getLogger(__name__)


async def drain_claimed(
    claims: Claims,
    contact_id: int,
    queue: list[int],
    pending_of: Callable[[int], Awaitable[list[int]]],
    drain: Callable[[Callable[[], Awaitable[None]]], Awaitable[bool]],
    forget: Callable[[list[int]], None],
) -> None:
    """Runs `drain` (the pipeline's loop over `queue`) under the contact's claim.

    `drain` calls the function it is given before each message (it brings the
    queue up to date with the database, step 2) and returns True when it emptied
    the queue, False when it stopped early (stopping, or a message given up for
    now): then nothing is read again. On a refused claim the queue is emptied
    (`forget` is told): that work is the holder's.
    """
    known: set[int] = set()  # the ids of the last read of the contact's unprocessed messages

    async def refresh() -> None:
        if queue and queue[0] in known:
            return  # read with the ones before it: nothing older can be missing
        known.clear()
        for inbox_id in await pending_of(contact_id):
            known.add(inbox_id)
            if inbox_id not in queue:
                bisect.insort(queue, inbox_id)

    while True:
        try:
            claimed = await claims.claim(contact_id)
        except Exception as exc:
            log.warning(
                "contact %s: claim failed (%s); left to a sweep", contact_id, type(exc).__name__
            )
            claimed = False
        if not claimed:
            forget(list(queue))
            queue.clear()
            return
        finished = False
        known.clear()
        try:
            finished = await drain(refresh)
        finally:
            try:
                await claims.release(contact_id)
            except Exception as exc:  # the connection is gone: so is the claim
                log.warning("contact %s: release failed (%s)", contact_id, type(exc).__name__)
        if not finished:
            return
        later = await pending_of(contact_id)
        queue.extend(i for i in later if i not in queue)
        queue.sort()
        if not queue:  # (this process may have queued one meanwhile: it is in `queue`)
            return
