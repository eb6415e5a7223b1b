"""The send worker: claim a job, transmit it while renewing the lease, finish it.

The transmission itself (dial, fax over the call's media) is the
``Transmit`` callable given by the wiring, so the loop is the same for every
route. A worker runs up to ``slots`` transmissions at once; the database's
limits (``send.max_concurrent``, ``send.max_per_line``) hold across every
worker sharing it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

from faxcore.runtime.supervisor import Loop, Supervisor
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

    async def run(self, supervisor: Supervisor | None = None) -> None:
        """Claim and send until cancelled; jobs in progress are left to their lease.

        Claiming is a loop under ``supervisor``'s policy (a failed claim is
        logged and backed off); a job's own errors end in ``_run_one``, so
        nothing that goes wrong stops the other transmissions.
        """
        supervisor = supervisor or Supervisor()
        async with asyncio.TaskGroup() as jobs:
            await supervisor.supervise(Loop(f"send-worker {self.name}: claims",
                                            functools.partial(self._claim_one, jobs),
                                            idle=self.poll_interval))

    async def _claim_one(self, jobs: asyncio.TaskGroup) -> bool:
        """Wait for a free slot, claim a due job and start it; ``False`` when none is due."""
        await self._slots.acquire()
        try:
            claim = await self.queue.claim(self.name)
        except BaseException:
            self._slots.release()
            raise
        if claim is None:
            self._slots.release()
            return False
        jobs.create_task(self._run_one(claim), name=f"send-job-{claim.job_id}")
        return True

    async def _run_one(self, claim: Claim) -> None:
        """One attempt: the boundary where its errors are logged and recorded.

        When even recording fails (the database is unavailable), the attempt
        stays ``sending`` until its lease runs out; the reaper then counts it
        as an interrupted attempt and the retry policy decides.
        """
        try:
            await self._attempt(claim)
        except Exception:
            log.exception("send job %s attempt %s: end not recorded; the attempt counts as "
                          "interrupted once its lease runs out", claim.job_id, claim.attempt)
        finally:
            self._slots.release()

    async def _attempt(self, claim: Claim) -> None:
        try:
            result = await self._transmit_holding_lease(claim)
            view = await self.queue.finish(claim, result)
            log.info("send job %s attempt %s to %s: %s %s", claim.job_id, claim.attempt,
                     claim.to_number, view.state, view.reason)
        except LeaseLost as exc:
            log.warning("send job %s: %s; attempt stopped", claim.job_id, exc)
            await self.queue.abandon(claim)

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
                try:
                    if loop.time() >= renew_at:
                        await self.queue.renew(claim)
                        late = loop.time() - renew_at
                        if late > period:
                            # Evidence for an operator: the lease came close to running out.
                            log.warning("send job %s: lease renewed %.1f s late (lease %.0f s)",
                                        claim.job_id, late, period * 3)
                        renew_at = loop.time() + period
                    else:
                        await self.queue.check(claim)
                except LeaseLost:
                    raise
                except Exception:
                    # The database is unreachable for now: the call goes on and
                    # the renewal is tried again; the lease has two periods left.
                    log.exception("send job %s: lease renewal or check failed; the "
                                  "transmission goes on", claim.job_id)
                    await asyncio.sleep(self.check_interval)

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
