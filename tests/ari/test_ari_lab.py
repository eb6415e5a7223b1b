"""AriClient against the real Asterisk 22 of the lab PBX: REST errors and a call's events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriBadRequest, AriError, AriNotFound
from faxcore.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelVarset,
    Event,
    PlaybackFinished,
    StasisStart,
)
from faxcore.asterisk.credentials import ari_password
from faxcore.config import FaxcoreConfig
from faxcore.lab.lab import Lab
from faxcore.lab.state import lab_pbx_config

pytestmark = [pytest.mark.lab]


def client(config: FaxcoreConfig, password: str | None = None) -> AriClient:
    ast = lab_pbx_config(config).asterisk
    return AriClient(ast.ari_url, ast.ari_user, password or ari_password(config), ast.app)


async def test_real_asterisk_errors_become_typed_errors(lab: Lab,
                                                        lab_config: FaxcoreConfig) -> None:
    async with client(lab_config) as ari:
        with pytest.raises(AriNotFound,
                           match=r"GET /channels/nope: Channel not found \(HTTP 404\)"):
            await ari.get_channel("nope")
        with pytest.raises(AriNotFound, match="Bridge not found"):
            await ari.add_channel("nope", "nope")
        with pytest.raises(AriNotFound, match="Channel not found"):
            await ari.hangup("nope", reason="unallocated")
        info = await ari.asterisk_info()
        assert str(info["system"]["version"]).startswith("22.")
    async with client(lab_config, password="wrong-password") as ari:
        with pytest.raises(AriError, match=r"HTTP 401"):
            await ari.list_channels()


async def next_event(events: AsyncIterator[Event], kind: type[Event],
                     channel_id: str | None = None) -> Event:
    """The next event of ``kind`` (about ``channel_id`` when given), within 10 s."""
    async with asyncio.timeout(10):
        async for event in events:
            if not isinstance(event, kind):
                continue
            channel = getattr(event, "channel", None)
            if channel_id is None or (channel is not None and channel.id == channel_id):
                return event
    raise AssertionError("event stream ended")


async def test_a_call_through_the_real_asterisk_yields_typed_events(
        lab: Lab, lab_config: FaxcoreConfig) -> None:
    context = lab_config.asterisk.inbound_context
    connected = asyncio.Event()

    async def on_connected() -> None:
        connected.set()

    async with client(lab_config) as ari:
        events = ari.events(on_connected)

        async def first_event() -> Event:
            return await anext(events)

        async with asyncio.TaskGroup() as tg:
            first = tg.create_task(first_event())  # connects the WebSocket
            await asyncio.wait_for(connected.wait(), 10)
            local = await ari.originate(f"Local/+33111222333@{context}",
                                        caller_id='"Bob" <0612>')
        start = first.result()
        while not (isinstance(start, StasisStart) and start.args):
            start = await anext(events)
        assert isinstance(start, StasisStart)
        assert start.args == ("inbound", "+33111222333")
        inbound = start.channel
        assert (inbound.dialplan.context, inbound.dialplan.exten) == (context, "+33111222333")
        assert inbound.caller.number == "0612" and inbound.state == "Ring"
        await ari.answer(inbound.id)
        other = await next_event(events, StasisStart, local.id)
        assert isinstance(other, StasisStart) and other.args == ()

        await ari.set_variable(inbound.id, "FAXCORE_TEST", "42")
        varset = await next_event(events, ChannelVarset, inbound.id)
        assert isinstance(varset, ChannelVarset)
        assert (varset.variable, varset.value) == ("FAXCORE_TEST", "42")
        assert await ari.get_variable(inbound.id, "FAXCORE_TEST") == "42"

        playback = await ari.play(inbound.id, "sound:beep")
        done = await next_event(events, PlaybackFinished)
        assert isinstance(done, PlaybackFinished)
        assert (done.playback.id, done.playback.state) == (playback.id, "done")

        await ari.send_dtmf(local.id, "7")
        dtmf = await next_event(events, ChannelDtmfReceived, inbound.id)
        assert isinstance(dtmf, ChannelDtmfReceived) and dtmf.digit == "7"

        with pytest.raises(AriBadRequest, match="format is unknown"):
            await ari.record(inbound.id, "faxcore-test", format="nosuchformat")

        bridge = await ari.create_bridge("mixing")
        await ari.add_channel(bridge.id, inbound.id)
        entered = await next_event(events, ChannelEnteredBridge)
        assert isinstance(entered, ChannelEnteredBridge) and entered.bridge.id == bridge.id
        await ari.remove_channel(bridge.id, inbound.id)
        await ari.destroy_bridge(bridge.id)

        await ari.hangup(inbound.id, reason="unallocated")
        destroyed = await next_event(events, ChannelDestroyed, inbound.id)
        assert isinstance(destroyed, ChannelDestroyed)
        assert (destroyed.cause, destroyed.cause_txt) == (1, "Unallocated (unassigned) number")
        await events.aclose()
