"""One policy for every background loop of a faxcore process.

The send worker, the event relay, the notifier and the housekeeping loops
run beside the calls of ``faxcore serve``, in the task group that owns the
Stasis app. An error escaping one of them would cancel that group and hang
up every call. Here each loop runs under the same rule: an unexpected error
in a pass (a locked database, an unreadable file) is logged and counted,
the loop waits an exponential backoff capped at ``Backoff.maximum`` and runs
again; nothing but cancellation leaves ``supervise``. The item a pass was
working on records its own failed attempt where it is handled (a
notification row, a send job's attempt): the supervisor is the net under it.

This module imports only faxcore's leaf modules, so every feature's wiring
can use it without depending on the process that assembles them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from faxcore.cancellation import stop_if_cancelled

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait after consecutive failures: ``initial`` doubling up to ``maximum``."""

    initial: float = 0.5
    maximum: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError(f"backoff: need 0 < initial ({self.initial}) <= maximum "
                             f"({self.maximum})")

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failures in a row (1 for the first)."""
        exponent = min(max(failures - 1, 0), 30)
        return float(min(self.initial * 2**exponent, self.maximum))


@dataclass(frozen=True)
class Loop:
    """A background loop: ``step`` does one pass and is called again and again.

    A pass returning something falsy found nothing to do: the next one waits
    ``idle`` seconds. A step may also run for good (a broker session, the
    send worker); if it ever fails it is started again under the same rule.
    """

    name: str
    step: Step
    idle: float = 0.0


class Supervisor:
    """Runs loops so that no error of theirs reaches the task group they share with calls."""

    def __init__(self, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff()
        self.failures: Counter[str] = Counter()  # failed passes per loop name, since start

    def start(self, tg: asyncio.TaskGroup, loop: Loop) -> asyncio.Task[None]:
        """Run ``loop`` in ``tg`` until its task is cancelled."""
        return tg.create_task(self.supervise(loop), name=loop.name)

    async def run(self, loops: Sequence[Loop]) -> None:
        """Run every loop until cancelled (for a process or a test that owns nothing else)."""
        async with asyncio.TaskGroup() as tg:
            for loop in loops:
                self.start(tg, loop)

    async def supervise(self, loop: Loop) -> None:
        """Call ``loop.step`` for good: logged, counted and backed off when it fails.

        Consecutive failures grow the wait; a success, or a step that ran
        longer than the longest wait before failing, starts it over.
        """
        in_a_row = 0
        while True:
            started = time.monotonic()
            try:
                busy = await loop.step()
            except Exception:
                stop_if_cancelled()
                if time.monotonic() - started > self.backoff.maximum:
                    in_a_row = 0
                in_a_row += 1
                self.failures[loop.name] += 1
                delay = self.backoff.delay(in_a_row)
                log.exception("%s: pass failed (%d in a row); running it again in %.1f s",
                              loop.name, in_a_row, delay)
                await asyncio.sleep(delay)
                continue
            stop_if_cancelled()  # the step may have swallowed it (see faxcore.cancellation)
            in_a_row = 0
            # Even a busy loop yields: a step that never suspends must not starve the calls.
            await asyncio.sleep(0 if busy else loop.idle)
