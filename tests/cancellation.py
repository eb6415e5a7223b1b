"""A library call that swallows a cancel, with the real ``asyncio.wait_for`` of Python 3.11."""

from __future__ import annotations

import asyncio


async def wait_for_a_result_that_meets_a_cancel() -> None:
    """Await a result through ``asyncio.wait_for`` while the task is cancelled in the very
    instant the result arrives, as when a PUBACK or an SMTP reply meets serve's shutdown.

    On Python 3.11 ``wait_for`` then returns instead of raising (CPython gh-86296):
    the cancel is swallowed, only ``Task.cancelling()`` remembers it. Real asyncio, not
    a fake; only the timing is arranged, as a real broker cannot be made to hit it.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    result: asyncio.Future[None] = loop.create_future()

    def arrive_with_the_cancel() -> None:
        result.set_result(None)
        task.cancel()

    loop.call_soon(arrive_with_the_cancel)
    await asyncio.wait_for(result, 10)
