"""Outbox retention: delivered events do not pile up forever.

An event row has done its work once every consumer this deployment runs has
taken it: the MQTT relay (``published_at``) when a broker is configured, the
in-process notifier (``consumed_at``) when ``faxcore serve`` sends mail. Rows
older than ``events.keep_days`` that are done are deleted; an undelivered
event is never deleted, whatever its age.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete

from faxcore.config import FaxcoreConfig
from faxcore.storage.db import Database
from faxcore.storage.models import OutboxEvent, utcnow

log = logging.getLogger(__name__)


async def prune_outbox(db: Database, *, before: datetime, require_published: bool,
                       require_consumed: bool) -> int:
    """Delete events created before ``before`` that are delivered; returns how many."""
    query = delete(OutboxEvent).where(OutboxEvent.created_at < before)
    if require_published:
        query = query.where(OutboxEvent.published_at.is_not(None))
    if require_consumed:
        query = query.where(OutboxEvent.consumed_at.is_not(None))
    async with db.session() as session:
        result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def pruning_loop(config: FaxcoreConfig, db: Database) -> None:
    """Prune at start and every ``events.prune_interval_seconds``, until cancelled.

    A failed pass is logged and retried at the next interval: pruning is
    housekeeping and must never stop the service.
    """
    events = config.events
    mails_here = bool(config.smtp.url) and config.notify.in_process
    while True:
        try:
            pruned = await prune_outbox(
                db, before=utcnow() - timedelta(days=events.keep_days),
                require_published=bool(config.mqtt.url), require_consumed=mails_here)
            if pruned:
                log.info("event outbox: %d delivered event(s) older than %d days deleted",
                         pruned, events.keep_days)
        except Exception:
            log.exception("event outbox pruning failed")
        await asyncio.sleep(events.prune_interval_seconds)
