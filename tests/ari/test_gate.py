"""The join gate: no channel lookup is in flight while a bridge join is (issue 21)."""

from __future__ import annotations

import asyncio

import pytest

from faxcore.ari.gate import Access, JoinGate, access_of


@pytest.mark.parametrize(("method", "path", "access"), [
    ("POST", "/bridges/b1/addChannel", Access.EXCLUSIVE),
    ("POST", "/bridges/b1/removeChannel", Access.SHARED),
    ("DELETE", "/channels/pbx-1.0", Access.SHARED),
    ("GET", "/channels", Access.SHARED),
    ("POST", "/channels/externalMedia", Access.SHARED),
    ("DELETE", "/bridges/b1", Access.SHARED),
    ("POST", "/asterisk/variable", Access.FREE),
    ("DELETE", "/recordings/stored/faxcore-msg-1", Access.FREE),
    ("DELETE", "/playbacks/pb1", Access.FREE),
])
def test_only_bridge_joins_are_exclusive_and_requests_about_no_channel_are_free(
        method: str, path: str, access: Access) -> None:
    assert access_of(method, path) is access


async def test_lookups_overlap_each_other_but_never_a_join_and_a_waiting_join_goes_first(
        ) -> None:
    gate = JoinGate()
    timeline: list[str] = []
    active: set[str] = set()
    overlaps: list[tuple[str, frozenset[str]]] = []

    async def request(name: str, access: Access, seconds: float) -> None:
        async with gate.enter(access):
            if active:
                overlaps.append((name, frozenset(active)))
            active.add(name)
            timeline.append(f"+{name}")
            await asyncio.sleep(seconds)
            active.discard(name)
            timeline.append(f"-{name}")

    first = asyncio.create_task(request("lookup1", Access.SHARED, 0.05))
    second = asyncio.create_task(request("lookup2", Access.SHARED, 0.05))
    await asyncio.sleep(0.01)
    join = asyncio.create_task(request("join", Access.EXCLUSIVE, 0.05))
    await asyncio.sleep(0.01)
    late = asyncio.create_task(request("lookup3", Access.SHARED, 0.01))
    heartbeat = asyncio.create_task(request("heartbeat", Access.FREE, 0.0))
    await asyncio.gather(first, second, join, late, heartbeat)
    assert {name for name, _ in overlaps} >= {"lookup2"}  # lookups run together
    for name, others in overlaps:
        assert "join" not in others or name == "heartbeat", (name, others)
        assert name != "join", others
    assert timeline.index("-join") < timeline.index("+lookup3")  # the join was not starved
    assert timeline.index("+heartbeat") < timeline.index("-join")  # free requests never wait


async def test_a_cancelled_waiter_leaves_the_gate_usable() -> None:
    gate = JoinGate()
    async with gate.enter(Access.SHARED):
        waiting = asyncio.create_task(gate.enter(Access.EXCLUSIVE).__aenter__())
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    async with asyncio.timeout(1):
        async with gate.enter(Access.SHARED), gate.enter(Access.SHARED):
            pass
        async with gate.enter(Access.EXCLUSIVE):
            pass
