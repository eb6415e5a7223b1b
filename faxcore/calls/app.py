"""The Stasis application: route each call to its line, log it, end it cleanly.

``StasisApp.run()`` consumes the ARI event stream; every ``StasisStart``
becomes a task in the app's TaskGroup. Unknown numbers are refused before
answering with cause 1 (unallocated, SIP 404). After every (re)connection
``reconcile`` closes the call log entries whose channels no longer exist
(Asterisk restarted), so the database never shows ghost calls in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriError, AriNotFound, AriUnavailable
from faxcore.ari.events import (
    ChannelDestroyed,
    ChannelEvent,
    ChannelHangupRequest,
    ChannelUserevent,
    Event,
    PlaybackEvent,
    RecordingEvent,
    StasisEnd,
    StasisStart,
)
from faxcore.ari.models import CallerId, Channel
from faxcore.calls.calllog import CallLog
from faxcore.calls.handlers import (
    Call,
    Handler,
    OutboundHandler,
    PreparesAnswer,
    Refusal,
    Screen,
    ServiceHandler,
    default_registry,
)
from faxcore.domain import CallDisposition, LineInfo, LineMode
from faxcore.fax.callmedia import OWN_CHANNEL_PREFIX
from faxcore.security import untrusted

log = logging.getLogger(__name__)

CAUSE_UNALLOCATED = 1  # Q.850 "unallocated number", SIP 404
# ARI hangup reasons for the Q.850 causes faxcore refuses with.
GONE_WAIT = 5.0  # seconds to wait for ChannelDestroyed after our hangup
# Seconds a call whose hang-up found Asterisk away waits for the reconnection's
# reconcile to say whether its channel is gone, before it is closed anyway.
RECONNECT_WAIT = 30.0
READY_EVENT = "faxcore-ready"  # the user event that proves Asterisk routes to this socket
READY_PROBE_INTERVAL = 1.0  # seconds before the proof is asked for again


def called_number(start: StasisStart) -> str:
    """The number the caller dialed, from the dialplan contract's Stasis arguments.

    ``inbound,<called>`` and ``from-line,<line>,<dialled>``; other arguments
    fall back to the channel's dialplan extension. (A StasisStart without
    arguments is not a call: see ``StasisApp.dispatch``.)
    """
    args = start.args
    if len(args) >= 2 and args[0] == "inbound":
        return untrusted.dialled_number(args[1])
    if len(args) >= 3 and args[0] == "from-line":
        return untrusted.dialled_number(args[2])
    return untrusted.dialled_number(start.channel.dialplan.exten)


def calling_line(start: StasisStart) -> str:
    """The line whose ATA placed the call (``from-line`` calls), else empty."""
    args = start.args
    return untrusted.dialled_number(args[1]) if len(args) >= 3 and args[0] == "from-line" else ""


def _service_key(number: str) -> str:
    return number.strip().lstrip("+")


class StasisApp:
    """Call routing for the application ``ari.app``."""

    def __init__(self, ari: AriClient, calllog: CallLog,
                 handlers: Mapping[LineMode, Handler] | None = None,
                 screen: Screen | None = None,
                 services: Mapping[str, ServiceHandler] | None = None,
                 ready: asyncio.Event | None = None,
                 outbound: OutboundHandler | None = None) -> None:
        self.ari = ari
        self.calllog = calllog
        self.handlers: dict[LineMode, Handler] = dict(handlers or default_registry())
        self.screen = screen
        # A line's calls to numbers that are no line; None: refused as unknown.
        self.outbound = outbound
        # Service numbers (not lines), compared without their '+'.
        self.services = {_service_key(n): h for n, h in (services or {}).items() if n}
        self.calls: dict[str, Call] = {}
        # Channels faxcore originated (sending faxes): events go to their owner.
        self.watched: dict[str, Call] = {}
        self.reconciled = 0  # reconcile passes done, for logs and tests
        # Set once the app's own user event came back through its event socket
        # after a reconcile: Asterisk routes calls to it from then on. Neither a
        # connected socket nor ``ari show apps`` proves that: the app may still
        # be a previous process's, deactivated, which refuses calls.
        self.ready = ready if ready is not None else asyncio.Event()
        self._reconciled = asyncio.Event()
        self._ready_token = uuid.uuid4().hex

    async def run(self) -> None:
        """Serve calls until cancelled; calls in progress are hung up on the way out."""
        async with (
            asyncio.TaskGroup() as tg,
            contextlib.aclosing(self.ari.events(self.reconcile)) as events,
        ):
            tg.create_task(self._prove_routing(), name="stasis-ready")
            async for event in events:
                self.dispatch(event, tg)

    @contextlib.contextmanager
    def watch(self, channel_id: str, called: str) -> Iterator[Call]:
        """Deliver the events of a channel faxcore originates to the returned ``Call``.

        Register before originating (no event is missed); the app never
        answers, logs or hangs the channel up: its owner does.
        """
        call = Call(self.ari, Channel(id=channel_id, state="Down"), called)
        self.watched[channel_id] = call
        try:
            yield call
        finally:
            self.watched.pop(channel_id, None)

    async def _prove_routing(self) -> None:
        """Set ``ready`` when our user event comes back; ask again while it does not."""
        while not self.ready.is_set():
            await self._reconciled.wait()
            try:
                await self.ari.user_event(READY_EVENT, {"token": self._ready_token})
            except AriError as exc:
                log.warning("readiness probe: %s", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(READY_PROBE_INTERVAL):
                    await self.ready.wait()

    def dispatch(self, event: Event, tg: asyncio.TaskGroup) -> None:
        """Route one event: new calls get a task, others go to their call."""
        if isinstance(event, ChannelUserevent):
            if (event.eventname == READY_EVENT
                    and event.userevent.get("token") == self._ready_token):
                self.ready.set()
            return
        if isinstance(event, ChannelEvent) and event.channel.id in self.watched:
            self._deliver(self.watched[event.channel.id], event)
            return
        if isinstance(event, StasisStart):
            if (event.channel.id in self.calls or not event.args
                    or event.channel.id.startswith(OWN_CHANNEL_PREFIX)):
                # No dialplan arguments: a channel faxcore made itself (externalMedia,
                # snoop, an originated leg); the handler that made it owns it.
                return
            call = Call(self.ari, event.channel, called_number(event),
                        from_line=calling_line(event))
            self.calls[call.id] = call
            tg.create_task(self._serve_call(call), name=f"call-{call.id}")
            return
        if isinstance(event, PlaybackEvent | RecordingEvent):
            # Media on a call's channel goes to that call's handler.
            target = (event.playback if isinstance(event, PlaybackEvent)
                      else event.recording).target_uri
            media_call = self.calls.get(target.removeprefix("channel:"))
            if media_call is not None and target.startswith("channel:"):
                media_call.events.put_nowait(event)
            return
        if not isinstance(event, ChannelEvent):
            return
        known = self.calls.get(event.channel.id)
        if known is not None:
            self._deliver(known, event)

    @staticmethod
    def _deliver(known: Call, event: ChannelEvent) -> None:
        """Queue ``event`` for its call and keep the call's hang-up state."""
        known.events.put_nowait(event)
        if (isinstance(event, ChannelHangupRequest) and event.cause is not None
                and not event.soft):
            # A soft request's "cause" is Asterisk's AST_SOFTHANGUP_* reason
            # (32 explicit, 16 app unload), not a Q.850 cause.
            known.cause = event.cause
        elif isinstance(event, ChannelDestroyed):
            known.mark_gone(event.cause)
        elif isinstance(event, StasisEnd):
            known.mark_gone()

    async def _serve_call(self, call: Call) -> None:
        """One call from StasisStart to its log entry's end.

        This is the boundary of one call: an error is logged with its
        traceback and ends this call only, never the other calls.
        """
        stopping = False
        try:
            if call.from_line:
                await self._no_other_line(call)
            caller = call.channel.caller.number
            service = self.services.get(_service_key(call.called))
            if service is not None:
                await self._answer(call, caller, call.called, None, "service number")
                await service(call)
                return
            line = await self.calllog.find_line(call.called)
            if line is None and call.from_line and self.outbound is not None:
                await self._serve_outbound(call, caller, self.outbound)
                return
            if line is None:
                await self._reject(call, caller)
                return
            refusal = await self.screen(self.ari, call, line) if self.screen else None
            if refusal is not None:
                await self._refuse(call, caller, line, refusal)
                return
            handler = self.handlers[line.mode]
            if isinstance(handler, PreparesAnswer):
                await handler.before_answer(call, line)
            await self._answer(call, caller, line.number, line, line.mode.value)
            await handler(call, line)
        except AriNotFound as exc:
            call.mark_gone(detail=f"channel gone: {exc.message}")
        except AriUnavailable as exc:
            call.lost_contact = f"Asterisk unavailable: {exc.message}"
        except asyncio.CancelledError:
            stopping = True
            call.detail = call.detail or "faxcore stopped"
            raise
        except Exception:
            log.exception("call %s failed", call.id)
            call.detail = call.detail or "faxcore error"
        finally:
            try:
                if call.answered:
                    await asyncio.shield(self._finish(call, stopping))
            except Exception:
                # The call is over either way; its log entry stays open for the
                # next start's reconcile. Other calls and serve go on.
                log.exception("call %s: its end could not be recorded", call.id)
            finally:
                self.calls.pop(call.id, None)

    async def _answer(self, call: Call, caller: str, called: str, line: LineInfo | None,
                      what: str, direction: str = "in") -> None:
        """Answer, then log the call as answered (``what``: the line's mode, a service)."""
        await self.ari.answer(call.id)
        call.answered = True
        await self.calllog.open_call(
            channel_id=call.id, caller=caller, called=called,
            disposition=CallDisposition.ANSWERED, line_id=line.id if line else None,
            started_at=call.channel.creationtime, direction=direction)
        log.info("call %s from %r to %s answered (%s)", call.id, caller, called, what)

    async def _serve_outbound(self, call: Call, caller: str, outbound: OutboundHandler) -> None:
        """A line's ATA dialled a number that is no line: the outbound handler's call."""
        line = await self.calllog.find_line(call.from_line)
        if line is None:  # removed since Asterisk authenticated the call
            await self._reject(call, caller)
            return
        refusal = await outbound.refusal(call, line)
        if refusal is not None:
            await self._refuse(call, caller, line, refusal, called=call.called,
                               disposition=CallDisposition.REJECTED_OUTBOUND)
            return
        await outbound.before_answer(call, line)
        await self._answer(call, caller, call.called, line, f"out from {line.number}", "out")
        await outbound(call, line)

    async def _no_other_line(self, call: Call) -> None:
        """A line's ATA may present its own number or an outside one, never another line's.

        Its endpoint trusts the identity the ATA sends (``trust_id_inbound``:
        it may be a small PBX passing on who called it), but filters,
        envelopes and the call log must not believe a subscriber who claims
        to be another subscriber: such a caller id becomes the calling
        line's own number.
        """
        presented = call.channel.caller.number
        if not presented:
            return
        named = await self.calllog.find_line(presented)
        if named is None or named.number == call.from_line:
            return
        log.warning("call %s: line %s presented line %s's number %r; using its own number",
                    call.id, call.from_line, named.number, presented)
        call.channel = replace(call.channel, caller=CallerId(number=call.from_line))

    async def _reject(self, call: Call, caller: str) -> None:
        """Refuse an unknown number before answering: cause 1, logged and closed.

        Logged first: the call reached faxcore even if Asterisk dies before
        the refusal gets through.
        """
        await self.calllog.open_call(
            channel_id=call.id, caller=caller, called=call.called,
            disposition=CallDisposition.REJECTED_UNKNOWN_LINE, cause=CAUSE_UNALLOCATED,
            started_at=call.channel.creationtime, ended=True,
        )
        log.info("call %s from %r to unknown number %r refused (cause 1)", call.id, caller,
                 call.called)
        await self.ari.hangup(call.id, reason="unallocated")

    async def _refuse(self, call: Call, caller: str, line: LineInfo, refusal: Refusal, *,
                      called: str | None = None,
                      disposition: CallDisposition = CallDisposition.REJECTED_FILTER) -> None:
        """Refuse a line's call before answering (logged first, then hung up): a call to
        the line its filters refuse (R4), or the line's own call out that may not go."""
        called = called or line.number
        await self.calllog.open_call(
            channel_id=call.id, caller=caller, called=called, disposition=disposition,
            cause=refusal.cause, line_id=line.id, detail=refusal.reason,
            started_at=call.channel.creationtime, ended=True,
            direction="out" if disposition is CallDisposition.REJECTED_OUTBOUND else "in",
        )
        log.info("call %s from %r to %s refused: %s (cause %d)", call.id, caller, called,
                 refusal.reason, refusal.cause)
        await self.ari.hangup(call.id, reason_code=refusal.cause)

    async def _finish(self, call: Call, stopping: bool) -> None:
        """Hang up if the caller has not, wait for the end, close the log entry."""
        stuck = self.ari.stuck.get(call.id)
        if not call.gone.is_set() and stuck is None:
            wait = GONE_WAIT
            try:
                await self.ari.hangup(call.id, reason="normal")
            except AriNotFound:
                call.mark_gone()
            except AriError as exc:
                log.warning("hangup of %s failed: %s", call.id, exc)
                if isinstance(exc, AriUnavailable):
                    wait = RECONNECT_WAIT
            stuck = self.ari.stuck.get(call.id)  # the hang-up itself may have got no answer
            if not stopping and stuck is None:
                await call.wait_gone(wait)
        if stuck is not None and not call.gone.is_set():
            log.error("call %s is stuck in Asterisk (%s got no answer): left to the operator",
                      call.id, stuck)
            await self.calllog.close_call(call.id, cause=call.cause, stuck=str(stuck))
            return
        await self.calllog.close_call(call.id, cause=call.cause,
                                      detail=call.detail or call.lost_contact or None)

    async def reconcile(self) -> None:
        """After a (re)connection: close calls whose channels Asterisk no longer has.

        The live channels are the application's own (``GET /applications/{app}``):
        every call faxcore handles is in its Stasis app, and that list is read
        without walking Asterisk's channel container (issue 21).
        """
        live = await self.ari.application_channel_ids()
        for channel_id in await self.calllog.open_channel_ids():
            if channel_id in live:
                if channel_id not in self.calls:
                    # Left over by a previous faxcore process: nobody handles it.
                    with contextlib.suppress(AriNotFound):
                        await self.ari.hangup(channel_id, reason="normal")
                    await self.calllog.close_call(channel_id, detail="orphaned call hung up")
                continue
            call = self.calls.get(channel_id)
            if call is not None:
                call.mark_gone(detail="channel gone (Asterisk restarted)")
            else:
                await self.calllog.close_call(channel_id,
                                              detail="channel gone (Asterisk restarted)")
            log.info("reconcile: call %s closed, its channel is gone", channel_id)
        for channel_id, call in list(self.calls.items()):
            if channel_id not in live:
                call.mark_gone(detail="channel gone (Asterisk restarted)")
        self.reconciled += 1
        self._reconciled.set()
