"""The send worker: claim a job, transmit it while renewing the lease, finish it.

The transmission itself (dial, fax over the call's media) is the
``Transmit`` callable given by the wiring, so the loop is the same for every
route. A worker runs up to ``slots`` transmissions at once; the database's
limits (``send.max_concurrent``, ``send.max_per_line``) hold across every
worker sharing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from faxcore.send.errors import LeaseLost
from faxcore.send.failures import Failure, Local, Source
from faxcore.send.queue import AttemptResult, Claim, SendQueue

log = logging.getLogger(__name__)

Transmit = Callable[[Claim], Awaitable[AttemptResult]]

# How often a running attempt looks whether its job was cancelled (from any
# host: the database is the only channel), between lease renewals.
CANCEL_CHECK_SECONDS = 1.0


class SendWorker:
    """Runs claimed jobs through ``transmit`` until cancelled."""

    def __init__(self, queue: SendQueue, transmit: Transmit, name: str, *, slots: int = 4,
                 poll_interval: float = 1.0, check_interval: float = CANCEL_CHECK_SECONDS) -> None:
        self.queue = queue
        self.transmit = transmit
        self.name = name
        self.poll_interval = poll_interval
        self.check_interval = check_interval
        self._slots = asyncio.Semaphore(slots)

    async def run(self) -> None:
        """Claim and send until cancelled; jobs in progress are left to their lease."""
        async with asyncio.TaskGroup() as tg:
            while True:
                await self._slots.acquire()
                try:
                    claim = await self.queue.claim(self.name)
                except Exception:
                    self._slots.release()
                    log.exception("send worker %s: claim failed", self.name)
                    await asyncio.sleep(self.poll_interval)
                    continue
                if claim is None:
                    self._slots.release()
                    await asyncio.sleep(self.poll_interval)
                    continue
                tg.create_task(self._run_one(claim), name=f"send-job-{claim.job_id}")

    async def _run_one(self, claim: Claim) -> None:
        """One attempt: the boundary where its errors are logged and recorded."""
        try:
            result = await self._transmit_holding_lease(claim)
            view = await self.queue.finish(claim, result)
            log.info("send job %s attempt %s to %s: %s %s", claim.job_id, claim.attempt,
                     claim.to_number, view.state, view.reason)
        except LeaseLost as exc:
            log.warning("send job %s: %s; attempt stopped", claim.job_id, exc)
            await self.queue.abandon(claim)
        finally:
            self._slots.release()

    async def _transmit_holding_lease(self, claim: Claim) -> AttemptResult:
        """``transmit``, renewing the lease at a third of its length; a lost lease stops it.

        Between renewals the job is looked at every ``check_interval``: a
        cancel stops the call within about that time, not a lease period.
        """
        loop = asyncio.get_running_loop()
        period = self.queue.lease.total_seconds() / 3

        async def renew() -> None:
            renew_at = loop.time() + period
            while True:
                await asyncio.sleep(max(0.0, min(self.check_interval, renew_at - loop.time())))
                if loop.time() >= renew_at:
                    await self.queue.renew(claim)
                    renew_at = loop.time() + period
                else:
                    await self.queue.check(claim)

        try:
            async with asyncio.TaskGroup() as tg:
                renewer = tg.create_task(renew(), name=f"lease-{claim.job_id}")
                try:
                    result = await self.transmit(claim)
                except Exception:
                    log.exception("send job %s: transmission failed", claim.job_id)
                    result = AttemptResult(Failure(Source.LOCAL, Local.DIAL_ERROR))
                finally:
                    renewer.cancel()
        except ExceptionGroup as group:
            lost = next((e for e in group.exceptions if isinstance(e, LeaseLost)), None)
            if lost is not None:
                raise lost from None
            raise
        return result
