"""Wiring: the answering machine's handler, dial-in number, recovery and retention for ``serve``."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from pathlib import Path

from faxcore.ari.client import AriClient
from faxcore.calls.app import StasisApp
from faxcore.calls.handlers import Handler, ServiceHandler
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode
from faxcore.errors import FaxcoreError
from faxcore.runtime.feature import Contribution, ServeParts
from faxcore.runtime.supervisor import Loop, Supervisor
from faxcore.storage.db import Database
from faxcore.voicemail.deposit import recover_recordings, voicemail_handler
from faxcore.voicemail.retrieval import Retrieval, sweep_copies
from faxcore.voicemail.store import VoicemailStore

log = logging.getLogger(__name__)


def contribution(parts: ServeParts, fax_handler: Handler) -> Contribution:
    """Voicemail lines get the deposit handler, the access number the dial-in menu;
    recordings a stop interrupted are kept at start; retention runs in the background.

    ``fax_handler`` receives the calls whose CNG is heard during the greeting (R6).
    """
    config, db = parts.config, parts.db
    store = VoicemailStore(db, config)

    async def reconcile() -> None:
        await reconcile_voicemail(config, db, parts.ari)

    def loops(app: StasisApp, supervisor: Supervisor) -> list[Loop]:
        return voicemail_loops(config, db)

    return Contribution(
        "voicemail",
        handlers={LineMode.VOICEMAIL: voicemail_handler(store, config, parts.media,
                                                        fax_handler)},
        services=voicemail_services(config, db),
        startup=(reconcile,),
        loops=loops)


async def reconcile_voicemail(config: FaxcoreConfig, db: Database, ari: AriClient) -> None:
    """At start, before calls: messages recorded while faxcore was killed are kept."""
    try:
        kept = await recover_recordings(ari, VoicemailStore(db, config), config)
    except FaxcoreError as exc:  # never a reason to keep every line down
        log.error("voicemail: recordings left by a stop not reconciled: %s", exc)
        return
    if kept:
        log.warning("voicemail: %d message(s) recorded during a crash recovered", kept)


def voicemail_services(config: FaxcoreConfig, db: Database) -> dict[str, ServiceHandler]:
    """Service numbers of this feature: the dial-in access number, when configured."""
    number = config.voicemail.access_number
    return {number: Retrieval(db, config)} if number else {}


async def retention_pass(store: VoicemailStore) -> int:
    """Apply retention (V7) and reconcile MWI; returns how many messages went.

    Run at start and every ``voicemail.retention_interval_seconds`` by the
    process supervisor: counts may have changed while faxcore was stopped.
    """
    purged = await store.enforce_retention()
    await store.sync_all_mwi()
    if purged:
        log.info("voicemail retention: %d message(s) removed", purged)
    sounds = store.config.voicemail.sounds_dir
    if sounds:
        swept = await asyncio.to_thread(sweep_copies, Path(sounds), time.time())
        if swept:
            log.info("voicemail: %d message copies left by dial-in calls removed", swept)
    return purged


def voicemail_loops(config: FaxcoreConfig, db: Database) -> list[Loop]:
    """The feature's background loops (run by the process supervisor)."""
    store = VoicemailStore(db, config)
    return [Loop("voicemail-retention", functools.partial(retention_pass, store),
                 idle=config.voicemail.retention_interval_seconds)]
