"""``faxcore serve``: migrate, connect to ARI, run the Stasis app, event relay and notifier."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriApplicationTaken
from faxcore.asterisk.credentials import ari_password
from faxcore.calls.app import StasisApp
from faxcore.calls.calllog import CallLog
from faxcore.calls.handlers import Handler, default_registry
from faxcore.calls.readiness import notify
from faxcore.config import FaxcoreConfig
from faxcore.events.wiring import event_loops
from faxcore.media.server import AudioSocketServer
from faxcore.notify.wiring import notifier_loops
from faxcore.reception.filters import FilterService, screener
from faxcore.reception.handler import FaxReceptionHandler
from faxcore.reception.store import FaxStore
from faxcore.runtime.supervisor import Supervisor
from faxcore.send.dial import AriTransmitter
from faxcore.send.wiring import send_loops
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from faxcore.storage.models import LineMode
from faxcore.voicemail.wiring import (
    reconcile_voicemail,
    voicemail_handlers,
    voicemail_loops,
    voicemail_services,
)

log = logging.getLogger(__name__)


async def serve(config: FaxcoreConfig, stop: asyncio.Event,
                handlers: Mapping[LineMode, Handler] | None = None,
                ready: asyncio.Event | None = None) -> None:
    """Serve calls until ``stop`` is set; in-progress calls are hung up and closed.

    ``ready`` is set once Asterisk routes calls to this process.
    """
    await upgrade(config.database_url)
    ast = config.asterisk
    async with (
        Database(config.database_url, echo=config.database.echo) as db,
        AriClient(ast.ari_url, ast.ari_user, ari_password(config), ast.app) as ari,
        AudioSocketServer(config.media.audiosocket_host, config.media.audiosocket_port) as media,
    ):
        store = FaxStore(db, config.fax_dir)
        await store.settle_interrupted()
        await reconcile_voicemail(config, db, ari)
        fax_handler = FaxReceptionHandler(store, media, config)
        registry: dict[LineMode, Handler] = {
            **default_registry(), LineMode.FAX: fax_handler,
            **voicemail_handlers(config, db, media, fax_handler), **(handlers or {}),
        }
        app = StasisApp(ari, CallLog(db), registry, screener(FilterService(db)),
                        services=voicemail_services(config, db), ready=ready)
        taken: list[AriApplicationTaken] = []
        async with asyncio.TaskGroup() as tg:
            runner = tg.create_task(_run_app(app, taken), name="stasis-app")
            stopper = tg.create_task(stop.wait(), name="stop-signal")
            transmit = AriTransmitter(config, db, ari, app, media)
            # Background loops share this group with the calls: the supervisor
            # keeps every error of theirs inside them (issue 11.6).
            supervisor = Supervisor()
            loops = (event_loops(config, db) + notifier_loops(config, db)
                     + send_loops(config, db, transmit, supervisor)
                     + voicemail_loops(config, db))
            background = [supervisor.start(tg, loop) for loop in loops]
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (runner, stopper, *background):
                task.cancel()
    if taken:
        # Calls were hung up on the way out: report the one reason, as it is.
        raise taken[0]
    log.info("faxcore serve stopped")


async def _run_app(app: StasisApp, taken: list[AriApplicationTaken]) -> None:
    """The Stasis app until cancelled, or until another process holds its application."""
    try:
        await app.run()
    except* AriApplicationTaken as group:
        # The app's own TaskGroup wraps what its event stream raised.
        first = _first_leaf(group)
        log.error("%s", first)
        taken.append(first)


def _first_leaf(group: BaseExceptionGroup[AriApplicationTaken]) -> AriApplicationTaken:
    leaf = group.exceptions[0]
    return leaf if isinstance(leaf, AriApplicationTaken) else _first_leaf(leaf)


async def _announce_ready(ready: asyncio.Event) -> None:
    await ready.wait()
    notify("READY=1")
    log.info("faxcore serve ready: Asterisk routes calls to it")


async def serve_until_signalled(config: FaxcoreConfig) -> None:
    """``serve`` with SIGTERM and SIGINT setting the stop event."""
    stop, ready = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        # Not a TaskGroup: serve's own errors must reach the CLI as they are,
        # not wrapped in an ExceptionGroup.
        announcer = asyncio.ensure_future(_announce_ready(ready))
        try:
            await serve(config, stop, ready=ready)
        finally:
            announcer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await announcer
            notify("STOPPING=1")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
