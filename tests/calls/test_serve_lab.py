"""``faxcore serve`` against the real Asterisk lab: a PBX and an ATA registered as a line.

The lab comes from ``tests/lab_fixtures.py`` (session-wide, its own ports and
chroot copy). The ATA places real SIP calls through the PBX into the Stasis
application served in-process, in the test's TaskGroup.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from faxcore.asterisk.sync import sync_asterisk
from faxcore.calls.calllog import CallLog
from faxcore.config import FaxcoreConfig
from faxcore.domain import CallDisposition, FaxState
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.state import lab_pbx_config, pid_alive, read_state, running_lab_target
from faxcore.lab.stations import Ata, Carrier
from faxcore.lines.service import LineService
from faxcore.reception.store import FaxStore
from faxcore.runtime.readiness import NOTIFY_SOCKET, readiness_listener, wait_ready
from faxcore.runtime.serve import serve
from faxcore.storage.db import Database
from faxcore.storage.models import CallLogEntry
from tests.lab_fixtures import LAB_LINE, lab_environ

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LINE = LAB_LINE
UNKNOWN = "+33999999999"


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


async def entries(config: FaxcoreConfig) -> list[CallLogEntry]:
    async with Database(config.database_url) as db:
        return await CallLog(db).entries()


async def app_registered(config: FaxcoreConfig) -> bool:
    out = await Lab(config).pbx.rx("ari show apps")
    return config.asterisk.app in out.split()


@pytest.fixture
def lab_up(lab: Lab, lab_config: FaxcoreConfig) -> FaxcoreConfig:
    """The lab's configuration, once the lab is up with the ATA registered as ``LINE``."""
    return lab_config


@asynccontextmanager
async def serving(config: FaxcoreConfig) -> AsyncIterator[FaxcoreConfig]:
    """``faxcore serve`` running in-process (in the test's TaskGroup) against the lab PBX."""
    stop, ready = asyncio.Event(), asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(serve(lab_pbx_config(config), stop, ready=ready))
        try:
            # Our own event socket connected: a previous serve's app, still
            # listed by Asterisk but deactivated, would refuse calls.
            async with asyncio.timeout(15):
                await ready.wait()
            yield config
        finally:
            stop.set()


@asynccontextmanager
async def serve_process(config: FaxcoreConfig,
                        **settings: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    """``faxcore serve`` as its own process against the lab, registered before it is yielded.

    ``settings`` are extra ``FAXCORE_*`` variables. A test may kill the process
    itself (SIGKILL, to play a crash); otherwise it is stopped with SIGTERM.
    """
    async with readiness_listener() as (notify_socket, states):
        env = {**os.environ, **lab_environ(config.data_dir, config.database.url), **settings,
               NOTIFY_SOCKET: notify_socket}
        proc = subprocess.Popen([str(Path(sys.executable).with_name("faxcore")), "serve"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await wait_ready(states, 30)  # sd_notify READY=1: Asterisk routes calls to it
        except TimeoutError:
            proc.kill()
            proc.wait()
            raise AssertionError("faxcore serve did not become ready in 30 s") from None
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


async def test_call_from_the_ata_to_its_line_is_answered_and_logged(
        lab_up: FaxcoreConfig) -> None:
    async with serving(lab_up) as served:
        await _answered_call(served)


async def _answered_call(served: FaxcoreConfig) -> None:
    before = len(await entries(served))
    outcome = await Ata(served).call(LINE, seconds=2)
    assert outcome.answered, outcome
    await wait_for(lambda: _ended(served, before), 10, "the call log entry to end")
    entry = (await entries(served))[before]
    assert entry.disposition is CallDisposition.ANSWERED
    assert entry.called == LINE and entry.line_id is not None
    assert "." in entry.channel_id
    assert entry.cause == 16  # the ATA hung up: normal clearing, from ChannelDestroyed
    assert entry.ended_at is not None and entry.ended_at >= entry.started_at
    assert 1.5 <= (entry.ended_at - entry.started_at).total_seconds() <= 15


async def _ended(config: FaxcoreConfig, index: int) -> bool:
    rows = await entries(config)
    return len(rows) > index and rows[index].ended_at is not None


async def test_unknown_number_is_refused_with_cause_1_and_logged(
        lab_up: FaxcoreConfig) -> None:
    """A call from the network to a number that is no line (a line's own calls
    to such numbers go out: ``tests/send/test_from_machine_lab.py``)."""
    async with serving(lab_up) as served:
        await _refused_call(served)


async def _refused_call(served: FaxcoreConfig) -> None:
    before = len(await entries(served))
    lab = Lab(served)
    carrier_log = lab.chroot.host_path("/var/log/faxcore-lab/carrier/messages.log")
    offset = carrier_log.stat().st_size
    await lab.carrier.rx("pjsip set logger on")
    try:
        outcome = await Carrier(served).call(UNKNOWN, seconds=2)
    finally:
        await lab.carrier.rx("pjsip set logger off")
    assert not outcome.answered and outcome.reason == "failed", outcome
    assert outcome.elapsed < 5  # refused at once, never rang
    with carrier_log.open("rb") as log:
        log.seek(offset)
        sip = log.read().decode(errors="replace")
    # Q.850 cause 1 reaches the network as SIP 404 Not Found.
    assert "SIP/2.0 404 Not Found" in sip
    rows = await entries(served)
    assert len(rows) == before + 1
    entry = rows[before]
    assert entry.disposition is CallDisposition.REJECTED_UNKNOWN_LINE
    assert (entry.cause, entry.called, entry.line_id) == (1, UNKNOWN, None)
    assert entry.ended_at is not None


async def kill_and_restart_pbx(config: FaxcoreConfig) -> None:
    """SIGKILL the PBX Asterisk, then bring it back with the ATA registered again."""
    state = read_state(config)
    assert state is not None and state.pbx_pid
    os.kill(state.pbx_pid, signal.SIGKILL)
    await wait_for(lambda: _dead(state.pbx_pid), 10, "the PBX to die")
    await Lab(config).up(line=LINE)


async def _dead(pid: int) -> bool:
    return not pid_alive(pid)


async def test_serve_survives_a_pbx_kill_and_closes_the_call_it_lost(
        lab_up: FaxcoreConfig) -> None:
    async with serving(lab_up) as served:
        await _kill_during_call(served)


async def _kill_during_call(served: FaxcoreConfig) -> None:
    before = len(await entries(served))
    ata = Ata(served)
    async with asyncio.TaskGroup() as tg:
        long_call = tg.create_task(ata.call(LINE, seconds=60))
        await wait_for(lambda: _logged(served, before), 20, "the long call to be answered")
        await kill_and_restart_pbx(served)
        await wait_for(lambda: app_registered(served), 30, "faxcore to reconnect")
        await wait_for(lambda: _ended(served, before), 15, "reconcile to close the lost call")
        long_call.cancel()
    # The ATA still holds its side of the lost call (no BYE came): end it.
    await Lab(served).ata.rx("channel request hangup all")
    lost = (await entries(served))[before]
    assert lost.disposition is CallDisposition.ANSWERED
    assert lost.ended_at is not None
    assert "gone" in lost.detail
    # The next call after the restart is answered and logged.
    await _answered_call(served)


async def _logged(config: FaxcoreConfig, index: int) -> bool:
    return len(await entries(config)) > index


async def test_stopping_serve_hangs_up_calls_in_progress_and_closes_them(
        lab_up: FaxcoreConfig) -> None:
    before = len(await entries(lab_up))
    ata = Ata(lab_up)
    async with asyncio.TaskGroup() as tg:
        async with serving(lab_up) as served:
            long_call = tg.create_task(ata.call(LINE, seconds=60))
            await wait_for(lambda: _logged(served, before), 20, "the long call to be answered")
        # serving() has returned: serve stopped and hung up the call.
        outcome = await asyncio.wait_for(long_call, 15)
    assert outcome.answered and outcome.duration is not None and outcome.duration < 30
    entry = (await entries(lab_up))[before]
    assert entry.ended_at is not None and entry.detail == "faxcore stopped"


async def test_adding_and_removing_a_line_mid_call_keeps_the_call_up(
        lab_up: FaxcoreConfig) -> None:
    """L3: a line change re-renders and reloads the PBX without dropping calls in progress."""
    extra = "+33972199999"
    async with serving(lab_up) as served, Database(served.database_url) as db:
        before = len(await entries(served))
        call = asyncio.create_task(Ata(served).call(LINE, seconds=8))
        try:
            await wait_for(lambda: _answered(served, before), 15, "the call to be answered")
            await LineService(db).add(extra, "Extra-line-42x")
            added = await sync_asterisk(db, running_lab_target(served))
            await LineService(db).remove(extra)
            removed = await sync_asterisk(db, running_lab_target(served))
            outcome = await call
        finally:
            call.cancel()
        assert "res_pjsip.so" in added.reloaded and "res_pjsip.so" in removed.reloaded
        assert outcome.answered and outcome.hangup_cause == 16, outcome
        assert outcome.duration is not None and outcome.duration >= 7, outcome


async def _answered(config: FaxcoreConfig, index: int) -> bool:
    rows = await entries(config)
    return len(rows) > index and rows[index].disposition is CallDisposition.ANSWERED


async def test_a_second_serve_with_the_same_application_name_is_refused_with_one_error(
        lab: Lab, lab_config: FaxcoreConfig, tmp_path: Path) -> None:
    """Two processes on one application would steal each other's calls (issue 21).

    The refused one touches nothing of the first one's either: its start-up,
    which settles receptions a killed faxcore left behind, must not settle the
    fax the first one is receiving meanwhile.
    """
    document = tmp_path / "three-pages.tif"
    write_synthetic_document(document, 3)
    async with Database(lab_config.database_url) as db:
        await LineService(db).set(LAB_LINE, mode="fax")
        store = FaxStore(db, lab_config.fax_dir)
        before = {f.id for f in await store.list()}
        async with serving(lab_config) as served:
            fax = asyncio.create_task(Ata(served).send_fax(LAB_LINE, document, mode="g711",
                                                           station_id="UNDER WAY"))

            async def under_way() -> bool:
                return any(f.id not in before for f in await store.list())

            await wait_for(under_way, 30, "the fax to be under way")
            env = {**os.environ, **lab_environ(lab_config.data_dir, lab_config.database.url)}
            second = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("faxcore")), "serve", env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, err = await asyncio.wait_for(second.communicate(), 60)
            sent = await fax
            # The first one still serves: a call is answered by it.
            outcome = await Ata(served).call(LAB_LINE, seconds=1)
        [received] = [f for f in await store.list()
                      if f.id not in before and f.remote_station_id == "UNDER WAY"]
    assert second.returncode == 1
    assert err.decode().splitlines()[-1].startswith(
        "faxcore: error: ARI application 'faxcore' is already served by another process")
    assert outcome.answered, outcome
    assert sent.fax_ok, sent
    assert received.state is FaxState.RECEIVED and received.pages == 3, received
