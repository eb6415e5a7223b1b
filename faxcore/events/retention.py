"""Outbox retention: delivered events do not pile up forever.

An event row has done its work once every consumer this deployment runs has
taken it: the MQTT relay (``published_at``) when a broker is configured, the
in-process notifier (``consumed_at``) when ``faxcore serve`` sends mail. Rows
older than ``events.keep_days`` that are done are deleted; an undelivered
event is never deleted, whatever its age.
"""

from __future__ import annotations

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


async def prune_pass(config: FaxcoreConfig, db: Database) -> int:
    """One pruning pass with the configured retention; returns how many rows went.

    Run every ``events.prune_interval_seconds`` by the process supervisor.
    """
    events = config.events
    mails_here = bool(config.smtp.url) and config.notify.in_process
    pruned = await prune_outbox(db, before=utcnow() - timedelta(days=events.keep_days),
                                require_published=bool(config.mqtt.url),
                                require_consumed=mails_here)
    if pruned:
        log.info("event outbox: %d delivered event(s) older than %d days deleted",
                 pruned, events.keep_days)
    return pruned
