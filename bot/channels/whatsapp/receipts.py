"""What a failed delivery leads to: sent again later, the window closed, or the person
unreachable. Called for each status callback that reports a new failure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.channels.whatsapp.protocol import (
    REDELIVERIES,
    TRANSIENT_CODES,
    UNREACHABLE_CODES,
    WINDOW_CLOSED,
    Tuning,
)
from bot.channels.whatsapp.window import WINDOW
from storage.conversation.delivery import DeliveryUpdate
from storage.store import Store

__all__ = ["on_failure"]

log = logging.getLogger(__name__)


async def on_failure(
    store: Store, update: DeliveryUpdate, clock: Callable[[], datetime], tuning: Tuning
) -> bool:
    """Sends again what may still arrive; reports what never will. True if the row changed."""
    if update.row_status != "sent":
        return False  # already being sent again, failed, or held
    code = int(update.error_code) if update.error_code else 0
    now = clock()
    if code == WINDOW_CLOSED:
        await store.whatsapp.close(update.contact_id, now - WINDOW)
        await store.deliveries.retry_sent(update.outbox_id, "window_closed", now)
        log.info("whatsapp: outbox row %s came after the window closed", update.outbox_id)
    elif code in UNREACHABLE_CODES:
        await store.deliveries.fail_sent(update.outbox_id, UNREACHABLE_CODES[code], now)
        await store.contacts.mark_unreachable(update.contact_id, True)
        log.info(
            "whatsapp: contact %s unreachable (%s)", update.contact_id, UNREACHABLE_CODES[code]
        )
    elif code in TRANSIENT_CODES and update.failures <= REDELIVERIES:
        delay = tuning.redelivery_delay * 2 ** (update.failures - 1)
        await store.deliveries.retry_sent(
            update.outbox_id, f"twilio_{code}", now + timedelta(seconds=delay)
        )
        log.info(
            "whatsapp: outbox row %s not delivered (twilio %s); again in %.0fs",
            update.outbox_id,
            code,
            delay,
        )
    else:
        await store.deliveries.fail_sent(update.outbox_id, f"twilio_{code or 'failed'}", now)
        log.warning(
            "whatsapp: outbox row %s was not delivered (twilio %s); reported as failed",
            update.outbox_id,
            code or "failed",
        )
    return True
