"""Per-line-mode call handlers: what happens once a line's call is answered.

The application answers and logs the call, then runs the handler registered
for the line's mode (``LineMode.FAX`` -> fax reception, ``LineMode.VOICEMAIL``
-> answering machine, added by later features with ``registry[mode] = fn``).
A handler returns when it is done with the call; the application then hangs
up if the caller has not, and closes the call log entry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from faxcore.ari.client import AriClient
from faxcore.ari.events import ChannelDestroyed, Event, StasisEnd
from faxcore.ari.models import Channel
from faxcore.domain import LineInfo, LineMode

log = logging.getLogger(__name__)


@dataclass
class Call:
    """One call in the application: its channel and the events about it."""

    ari: AriClient
    channel: Channel
    called: str
    # The line whose ATA placed the call (authenticated by its endpoint, never
    # the caller id); empty for calls from the network.
    from_line: str = ""
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    cause: int | None = None
    detail: str = ""
    # Set once faxcore answered: the call then has a log entry to close.
    answered: bool = False
    # Why faxcore lost contact with Asterisk during the call, if it did: the
    # detail logged only when nothing better is learnt (a reconcile after the
    # reconnection knows whether the channel is gone).
    lost_contact: str = ""

    @property
    def id(self) -> str:
        """The ARI channel id."""
        return self.channel.id

    async def next_event(self, until: asyncio.Event | None = None) -> Event | None:
        """The call's next event; None once the call is over (its hang-up event, or
        gone with its queued events read) or ``until`` is set.

        Waiting on the queue alone would hang a handler whose channel vanished
        without an event reaching it (an ARI reconnection, an Asterisk restart).
        """
        if not self.events.empty():
            return _unless_over(self.events.get_nowait())
        if self.gone.is_set() or (until is not None and until.is_set()):
            return None
        getter = asyncio.ensure_future(self.events.get())
        stoppers = [asyncio.ensure_future(self.gone.wait())]
        if until is not None:
            stoppers.append(asyncio.ensure_future(until.wait()))
        try:
            await asyncio.wait({getter, *stoppers}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for stopper in stoppers:
                stopper.cancel()
            if not getter.done():
                getter.cancel()  # a cancelled Queue.get takes nothing from the queue
        if getter.done() and not getter.cancelled():
            return _unless_over(getter.result())
        return None

    def mark_gone(self, cause: int | None = None, detail: str = "") -> None:
        """The channel left the application or no longer exists."""
        if cause:  # 0 is "unknown": keep the hangup request's cause then
            self.cause = cause
        if detail and not self.detail:
            self.detail = detail
        self.gone.set()

    async def wait_gone(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the caller to hang up; True if they did."""
        try:
            async with asyncio.timeout(timeout):
                await self.gone.wait()
        except TimeoutError:
            return False
        return True


def _unless_over(event: Event) -> Event | None:
    """None for the events that end a call's life in the application."""
    return None if isinstance(event, ChannelDestroyed | StasisEnd) else event


Handler = Callable[[Call, LineInfo], Awaitable[None]]
# A handler for a service number that is not a line (the voicemail access number).
ServiceHandler = Callable[[Call], Awaitable[None]]


@dataclass(frozen=True)
class Refusal:
    """Why a line's call is refused before answering, and its Q.850 cause."""

    reason: str
    cause: int = 21  # call rejected (SIP 403)


# Decides, before answering, whether a line takes the call (R4 filters).
Screen = Callable[[AriClient, Call, LineInfo], Awaitable[Refusal | None]]


class OutboundHandler(Protocol):
    """A line's call to a number that is no line: its fax machine faxing out (S1).

    The application asks ``refusal`` first (nothing answered yet), then
    ``before_answer``, answers, logs the call as the line's outgoing call and
    runs the handler with the calling line.
    """

    async def refusal(self, call: Call, line: LineInfo) -> Refusal | None: ...

    async def before_answer(self, call: Call, line: LineInfo) -> None: ...

    async def __call__(self, call: Call, line: LineInfo) -> None: ...


@runtime_checkable
class PreparesAnswer(Protocol):
    """A handler that must act on the channel before it is answered.

    Fax reception enables Asterisk's T.38 gateway there: it has to be on the
    channel before the answer for a T.38 caller's re-INVITE to be accepted.
    """

    async def before_answer(self, call: Call, line: LineInfo) -> None: ...


def hold_handler(hold_seconds: float, media: str = "sound:silence/1") -> Handler:
    """Until fax and voicemail land: play ``media``, keep the line up a bounded time."""

    async def hold(call: Call, line: LineInfo) -> None:
        await call.ari.play(call.id, media)
        if not await call.wait_gone(hold_seconds):
            log.info("call %s on %s held %.0f s; hanging up", call.id, line.number, hold_seconds)

    return hold


def default_registry(hold_seconds: float = 30.0) -> dict[LineMode, Handler]:
    """The registry faxcore starts with: every mode answered and held."""
    hold = hold_handler(hold_seconds)
    return {mode: hold for mode in LineMode}
