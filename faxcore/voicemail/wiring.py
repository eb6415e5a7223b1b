"""Wiring: the answering machine's call handler and periodic job for ``faxcore serve``."""

from __future__ import annotations

import asyncio
import logging

from faxcore.calls.handlers import Handler, ServiceHandler
from faxcore.config import FaxcoreConfig
from faxcore.media.server import AudioSocketServer
from faxcore.storage.db import Database
from faxcore.storage.models import LineMode
from faxcore.voicemail.deposit import voicemail_handler
from faxcore.voicemail.retrieval import Retrieval
from faxcore.voicemail.store import VoicemailStore

log = logging.getLogger(__name__)


def voicemail_handlers(config: FaxcoreConfig, db: Database, media: AudioSocketServer,
                       fax_handler: Handler) -> dict[LineMode, Handler]:
    """Registry entries of this feature: voicemail lines get the deposit handler.

    ``fax_handler`` receives the calls whose CNG is heard during the greeting (R6).
    """
    return {LineMode.VOICEMAIL: voicemail_handler(VoicemailStore(db, config), config, media,
                                                  fax_handler)}


def voicemail_services(config: FaxcoreConfig, db: Database) -> dict[str, ServiceHandler]:
    """Service numbers of this feature: the dial-in access number, when configured."""
    number = config.voicemail.access_number
    return {number: Retrieval(db, config)} if number else {}


async def retention_loop(store: VoicemailStore, interval: float) -> None:
    """Apply retention (V7) at start and every ``interval`` seconds, until cancelled.

    A failed pass is logged and retried at the next interval: retention is
    housekeeping and must never stop call handling.
    """
    while True:
        try:
            purged = await store.enforce_retention()
            await store.sync_all_mwi()  # reconcile: counts may have changed while stopped
            if purged:
                log.info("voicemail retention: %d message(s) removed", purged)
        except Exception:
            log.exception("voicemail retention pass failed")
        await asyncio.sleep(interval)


def start_voicemail(tg: asyncio.TaskGroup, config: FaxcoreConfig,
                    db: Database) -> list[asyncio.Task[None]]:
    """The feature's background tasks, owned by ``tg`` (serve cancels them on stop)."""
    store = VoicemailStore(db, config)
    return [tg.create_task(
        retention_loop(store, config.voicemail.retention_interval_seconds),
        name="voicemail-retention")]
