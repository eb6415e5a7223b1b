"""``Call.next_event``: a handler never waits forever for a call that is gone.

The call's events are built in memory: this is the queue a real ARI
connection feeds (``StasisApp.dispatch``), exercised without one.
"""

from __future__ import annotations

import asyncio

from faxcore.ari.client import AriClient
from faxcore.ari.events import ChannelDtmfReceived, StasisEnd
from faxcore.ari.models import Channel
from faxcore.calls.handlers import Call


def a_call() -> Call:
    return Call(AriClient("http://127.0.0.1:9", "u", "p", "faxcore"), Channel(id="c1"), "+331")


def key(digit: str) -> ChannelDtmfReceived:
    return ChannelDtmfReceived(type="ChannelDtmfReceived", timestamp=None, application="faxcore",
                               channel=Channel(id="c1"), digit=digit)


async def test_queued_events_come_first_even_once_the_call_is_gone() -> None:
    call = a_call()
    call.events.put_nowait(key("1"))
    call.mark_gone(detail="hung up")
    assert await call.next_event() == key("1")
    assert await call.next_event() is None


async def test_a_call_marked_gone_while_waiting_ends_the_wait() -> None:
    call = a_call()
    waiting = asyncio.ensure_future(call.next_event())
    await asyncio.sleep(0.01)
    call.mark_gone(detail="channel gone (Asterisk restarted)")
    assert await asyncio.wait_for(waiting, 1) is None


async def test_until_ends_the_wait_and_leaves_later_events_queued() -> None:
    call, fax_heard = a_call(), asyncio.Event()
    waiting = asyncio.ensure_future(call.next_event(fax_heard))
    await asyncio.sleep(0.01)
    fax_heard.set()
    assert await asyncio.wait_for(waiting, 1) is None
    call.events.put_nowait(key("5"))
    assert await call.next_event() == key("5")  # nothing was lost by the cancelled wait


async def test_an_event_arriving_while_waiting_is_returned() -> None:
    call = a_call()
    waiting = asyncio.ensure_future(call.next_event(asyncio.Event()))
    await asyncio.sleep(0.01)
    call.events.put_nowait(key("#"))
    assert await asyncio.wait_for(waiting, 1) == key("#")


async def test_the_hang_up_event_ends_the_call_for_its_handler() -> None:
    call = a_call()
    call.events.put_nowait(key("1"))
    call.events.put_nowait(StasisEnd(type="StasisEnd", timestamp=None, application="faxcore",
                                     channel=Channel(id="c1")))
    assert await call.next_event() == key("1")
    assert await call.next_event() is None
