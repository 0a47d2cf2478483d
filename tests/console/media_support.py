"""A family's kept photo or voice note for the case page tests, written as the bot writes
it: the message received with where to fetch it, the file kept, then its turn."""

from __future__ import annotations

import itertools

from case_support import state_json
from support import Clock

from storage.handoff.records import LiveCase
from storage.media.records import MediaItem, MediaRef
from storage.records import NewInbound, TurnWrite
from storage.store import Store

_ids = itertools.count(1)


async def family_media(
    store: Store,
    clock: Clock,
    case: LiveCase,
    kind: str,
    mime: str,
    data: bytes | None,
    *,
    status: str = "stored",
    address: str = "7001",
    channel: str = "telegram",
) -> MediaItem:
    """The case's family sends a photo or voice note: kept (`data`) or settled as `status`."""
    item = NewInbound(
        channel, f"{address}-m{next(_ids)}", kind, "", clock(), media=MediaRef("file-1", mime)
    )
    contact, inbox_id = await store.turns.receive(channel, address, item)
    assert inbox_id is not None and contact.id == case.contact_id
    waiting = await store.media.of_message(inbox_id)
    assert waiting is not None
    settled = await store.media.settle(
        waiting.id, status, mime=mime if data is not None else "", data=data
    )
    assert settled is not None
    await store.turns.commit_turn(TurnWrite(inbox_id, contact.id, state_json(), (), clock()))
    clock.advance(1)
    return settled
