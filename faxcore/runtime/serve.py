"""``faxcore serve``, the composition root: every feature plugged into one process.

The process opens the database, the ARI client and the AudioSocket server,
hands them to each feature's ``wiring.contribution`` and assembles what comes
back (``faxcore.runtime.feature``): start-up work first, then the Stasis app
with every handler, service number and screen, then every background loop
under one supervisor, in the task group that owns the calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriApplicationTaken, AriUnavailable
from faxcore.asterisk.credentials import ari_password
from faxcore.calls.app import StasisApp
from faxcore.calls.calllog import CallLog
from faxcore.calls.handlers import Handler, default_registry
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode
from faxcore.events.wiring import event_loops
from faxcore.media.server import AudioSocketServer
from faxcore.notify import wiring as notify_wiring
from faxcore.reception import wiring as reception_wiring
from faxcore.runtime.feature import Contribution, ServeParts, merged, the_one
from faxcore.runtime.notifier import purge_forwarded
from faxcore.runtime.readiness import notify
from faxcore.runtime.signals import stop_on_signals
from faxcore.runtime.supervisor import Loop, Supervisor
from faxcore.send import wiring as send_wiring
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from faxcore.voicemail import wiring as voicemail_wiring

log = logging.getLogger(__name__)


def contributions(parts: ServeParts) -> list[Contribution]:
    """Every feature of the process, in start-up order (reception settles first)."""
    reception = reception_wiring.contribution(parts)
    config, db = parts.config, parts.db

    def events(app: StasisApp, supervisor: Supervisor) -> list[Loop]:
        return event_loops(config, db)

    return [
        reception,
        voicemail_wiring.contribution(parts, fax_handler=reception.handlers[LineMode.FAX]),
        send_wiring.contribution(parts),
        notify_wiring.contribution(parts, after_forward=purge_forwarded(config, db)),
        # The bus sits below call routing (calls emit events): its loops join here.
        Contribution("events", loops=events),
    ]


async def serve(config: FaxcoreConfig, stop: asyncio.Event,
                handlers: Mapping[LineMode, Handler] | None = None,
                ready: asyncio.Event | None = None) -> None:
    """Serve calls until ``stop`` is set; in-progress calls are hung up and closed.

    ``handlers`` replace the features' own (tests); ``ready`` is set once
    Asterisk routes calls to this process.
    """
    await upgrade(config.database_url)
    ast = config.asterisk
    async with (
        Database(config.database_url, echo=config.database.echo) as db,
        AriClient(ast.ari_url, ast.ari_user, ari_password(config), ast.app) as ari,
        AudioSocketServer(config.media.audiosocket_host, config.media.audiosocket_port) as media,
    ):
        await _claim_before_start_up(ari)
        features = contributions(ServeParts(config, db, ari, media))
        for feature in features:
            for step in feature.startup:
                await step()
        registry: dict[LineMode, Handler] = {
            **default_registry(),
            **merged("line mode", ((f.name, f.handlers) for f in features)),
            **(handlers or {}),
        }
        services = merged("service number", ((f.name, f.services) for f in features))
        app = StasisApp(ari, CallLog(db), registry,
                        the_one("call screen", ((f.name, f.screen) for f in features)),
                        services=services, ready=ready,
                        outbound=the_one("outbound handler",
                                         ((f.name, f.outbound) for f in features)))
        taken: list[AriApplicationTaken] = []
        async with asyncio.TaskGroup() as tg:
            runner = tg.create_task(_run_app(app, taken), name="stasis-app")
            stopper = tg.create_task(stop.wait(), name="stop-signal")
            # Background loops share this group with the calls: the supervisor
            # keeps every error of theirs inside them (issue 11.6).
            supervisor = Supervisor()
            background = [supervisor.start(tg, loop) for feature in features
                          for loop in feature.loops(app, supervisor)]
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (runner, stopper, *background):
                task.cancel()
    if taken:
        # Calls were hung up on the way out: report the one reason, as it is.
        raise taken[0]
    log.info("faxcore serve stopped")


async def _claim_before_start_up(ari: AriClient) -> None:
    """Refuse to start beside a live process serving the same application.

    Start-up settles what a killed faxcore left behind (receptions cut off
    mid-fax): done by a second process while the first one is alive, it would
    settle the first one's calls in progress. An Asterisk that cannot be
    reached now serves no call either; the event stream claims the
    application once it connects.
    """
    try:
        await ari.claim_application()
    except AriUnavailable as exc:
        log.warning("ARI not reachable at start (%s): starting anyway, the application is "
                    "claimed once Asterisk answers", exc)


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
    with stop_on_signals(stop):
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
