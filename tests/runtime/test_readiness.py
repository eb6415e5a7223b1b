"""sd_notify: ``faxcore serve`` tells its supervisor when it takes calls."""

from __future__ import annotations

import asyncio

import pytest

from faxcore.runtime.readiness import NOTIFY_SOCKET, notify, readiness_listener, wait_ready


async def test_ready_reaches_a_listening_supervisor() -> None:
    async with readiness_listener() as (path, states):
        assert notify("STATUS=starting", {NOTIFY_SOCKET: path})
        assert notify("READY=1", {NOTIFY_SOCKET: path})
        await wait_ready(states, 2)
        assert states.empty()


async def test_without_a_supervisor_nothing_is_sent() -> None:
    assert not notify("READY=1", {})
    assert not notify("READY=1", {NOTIFY_SOCKET: "/nonexistent/notify.sock"})


async def test_waiting_for_ready_times_out() -> None:
    async with readiness_listener() as (path, states):
        notify("STOPPING=1", {NOTIFY_SOCKET: path})
        with pytest.raises(TimeoutError):
            await wait_ready(states, 0.2)
        await asyncio.sleep(0)
