"""The supervisor: a failing loop is logged, counted, backed off and run again; nothing escapes."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from faxcore.runtime.supervisor import Backoff, Loop, Supervisor
from tests.cancellation import wait_for_a_result_that_meets_a_cancel


def test_backoff_doubles_from_initial_and_stops_at_the_cap() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.delay(10_000) == 4.0


def test_backoff_refuses_a_cap_below_the_first_wait() -> None:
    with pytest.raises(ValueError, match="initial"):
        Backoff(initial=2.0, maximum=1.0)


async def test_failing_loop_is_logged_counted_backed_off_and_leaves_its_neighbours_alone(
        caplog: pytest.LogCaptureFixture) -> None:
    """A call running in the same task group as a loop that keeps failing is never cancelled."""
    calls: list[float] = []

    async def step() -> bool:
        calls.append(time.monotonic())
        if len(calls) <= 5:
            raise OSError(f"injected failure {len(calls)}")
        return False

    supervisor = Supervisor(Backoff(initial=0.05, maximum=0.2))
    call_done = asyncio.Event()

    async def a_call() -> None:
        await asyncio.sleep(1.5)
        call_done.set()

    with caplog.at_level(logging.ERROR, logger="faxcore.runtime.supervisor"):
        async with asyncio.TaskGroup() as tg:
            call = tg.create_task(a_call())
            loop = supervisor.start(tg, Loop("flaky", step, idle=10.0))
            await call
            loop.cancel()
    assert call_done.is_set() and not call.cancelled()
    assert supervisor.failures["flaky"] == 5
    assert len(calls) == 6  # run again after each failure, then idle
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    for gap, expected in zip(gaps, [0.05, 0.1, 0.2, 0.2, 0.2], strict=True):
        assert expected <= gap < expected + 0.15, gaps
    failures = [r for r in caplog.records if "flaky: pass failed" in r.getMessage()]
    assert len(failures) == 5 and all(r.exc_info for r in failures)
    assert "(5 in a row)" in failures[-1].getMessage()


async def test_a_success_starts_the_backoff_over() -> None:
    outcomes = iter([OSError("a"), OSError("b"), True, OSError("c")])
    stamps: list[float] = []

    async def step() -> bool:
        stamps.append(time.monotonic())
        outcome = next(outcomes, False)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # True: more work, run again at once

    supervisor = Supervisor(Backoff(initial=0.1, maximum=1.0))
    task = asyncio.create_task(supervisor.supervise(Loop("l", step, idle=10.0)))
    await asyncio.sleep(0.6)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # fail (0.1) fail (0.2) ok (at once) fail: waits 0.1 again, not 0.4
    assert stamps[4] - stamps[3] < 0.3
    assert supervisor.failures["l"] == 3


async def test_a_loop_that_always_has_work_still_lets_calls_run() -> None:
    passes = 0

    async def never_suspends() -> bool:
        nonlocal passes
        passes += 1
        return True

    async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
        loop = Supervisor().start(tg, Loop("busy", never_suspends))
        await asyncio.sleep(0.1)  # a call's audio timer
        loop.cancel()
    assert passes > 1


async def test_a_cancellation_a_library_turned_into_its_own_error_still_stops_the_loop() -> None:
    """aiomqtt raises MqttError when cancelled while connecting: the loop must still stop."""
    entered = asyncio.Event()

    async def connect_like_aiomqtt() -> bool:
        entered.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("Operation timed out") from None
        return False

    supervisor = Supervisor(Backoff(initial=0.01, maximum=0.02))
    task = asyncio.create_task(supervisor.supervise(Loop("mqtt", connect_like_aiomqtt)))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_a_step_whose_library_swallowed_the_cancel_still_stops_the_loop() -> None:
    """Python 3.11's ``wait_for`` (aiosmtplib's replies, aiomqtt's acks) may return as if
    never cancelled: the loop must stop after that step, not run on for good."""
    passes = 0

    async def deliver_like_aiosmtplib() -> bool:
        nonlocal passes
        passes += 1
        await wait_for_a_result_that_meets_a_cancel()
        return True

    task = asyncio.create_task(Supervisor().supervise(Loop("smtp", deliver_like_aiosmtplib)))
    await asyncio.wait({task}, timeout=5)
    assert task.done(), f"still running after {passes} passes: the swallowed stop was lost"
    assert task.cancelled()
    assert passes == 1
