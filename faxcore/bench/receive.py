"""``faxcore bench receive --calls N``: N simultaneous G.711 faxes from the lab ATA into faxcore.

Needs the lab up with the ATA registered as a line (``faxcore lab up --line N``).
``faxcore serve`` runs as its own process (the one measured) against the lab's
PBX; the ATA's Asterisk sends the same one-page fax N times at once; the CPU
time of the serve process (utime + stime from ``/proc``) over the calls'
wall time gives ``faxcore_cpu_per_call_pct``: percent of one core per call.
A call succeeds when the ATA reports FAXSTATUS=SUCCESS and faxcore's record
is ``received`` with the page.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click

from faxcore.bench import BenchError, parse_result_line
from faxcore.cli.common import emit, handles_errors, json_option, run_async, state
from faxcore.config import FaxcoreConfig
from faxcore.domain import FaxState
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.stations import Ata
from faxcore.reception.store import FaxStore
from faxcore.runtime.readiness import NOTIFY_SOCKET, readiness_listener, wait_ready
from faxcore.storage.db import Database

_TICKS = os.sysconf("SC_CLK_TCK")
RESULT_KEYS = ("calls", "succeeded", "faxcore_cpu_per_call_pct")


@dataclass(frozen=True)
class ReceiveBenchResult:
    """One run's figures."""

    calls: int
    succeeded: int
    wall_seconds: float
    cpu_seconds: float

    @property
    def cpu_per_call_pct(self) -> float:
        """Percent of one core faxcore used per simultaneous call."""
        if not self.calls or not self.wall_seconds:
            return 0.0
        return 100.0 * self.cpu_seconds / self.wall_seconds / self.calls

    def result_line(self) -> str:
        """The parseable last line."""
        return (f"RESULT calls={self.calls} succeeded={self.succeeded} "
                f"faxcore_cpu_per_call_pct={self.cpu_per_call_pct:.3f}")


def parse_receive_result(line: str) -> dict[str, float]:
    """Read back the figures of this benchmark's ``RESULT`` line (used by tests)."""
    return parse_result_line(line, RESULT_KEYS, "receive")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


async def _ready(proc: subprocess.Popen[bytes], states: asyncio.Queue[str],
                 timeout: float) -> None:
    """Until serve says READY=1 (sd_notify); an early exit or a timeout is a BenchError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"faxcore serve exited with {proc.returncode}")
        try:
            await wait_ready(states, 0.5)
            return
        except TimeoutError:
            continue
    proc.terminate()
    raise BenchError("faxcore serve did not become ready")


async def _received(config: FaxcoreConfig, line: str, before: set[int]) -> int:
    async with Database(config.database_url) as db:
        faxes = await FaxStore(db, config.fax_dir).list(line=line, limit=10000)
    return sum(1 for f in faxes if f.id not in before and f.state is FaxState.RECEIVED
               and f.pages == 1)


async def _fax_ids(config: FaxcoreConfig, line: str) -> set[int]:
    async with Database(config.database_url) as db:
        return {f.id for f in await FaxStore(db, config.fax_dir).list(line=line, limit=10000)}


async def run_receive_bench(config: FaxcoreConfig, calls: int) -> ReceiveBenchResult:
    """Serve in a child process, send ``calls`` faxes at once from the ATA, measure."""
    if calls < 1:
        raise BenchError("--calls must be at least 1")
    lab = Lab(config)
    lab_state = lab.require_running()
    if not lab_state.line:
        raise BenchError("the lab's ATA is not registered as a line: faxcore lab up --line N")
    line = lab_state.line
    env = {**os.environ, "FAXCORE_ASTERISK_ARI_URL": f"http://127.0.0.1:{lab_state.ari_port}",
           "FAXCORE_DATA_DIR": str(config.data_dir)}
    if config.database.url:
        env["FAXCORE_DATABASE_URL"] = config.database.url
    before = await _fax_ids(config, line)
    with tempfile.TemporaryDirectory(prefix="faxcore-bench-rx-") as tmp:
        document = Path(tmp) / "page.tif"
        write_synthetic_document(document, 1)
        async with readiness_listener() as (notify_socket, states):
            proc = subprocess.Popen([sys.executable, "-m", "faxcore", "serve"],
                                    env={**env, NOTIFY_SOCKET: notify_socket},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await _ready(proc, states, 30)
        try:
            ata = Ata(config)
            cpu0, t0 = process_cpu_seconds(proc.pid), time.monotonic()
            outcomes = await asyncio.gather(*(
                ata.send_fax(line, document, mode="g711", station_id=f"BENCH {i}")
                for i in range(calls)))
            wall = time.monotonic() - t0
            cpu = process_cpu_seconds(proc.pid) - cpu0
            for _ in range(50):  # let the last records settle
                if await _received(config, line, before) >= sum(o.fax_ok for o in outcomes):
                    break
                await asyncio.sleep(0.2)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    received = await _received(config, line, before)
    succeeded = min(received, sum(o.fax_ok for o in outcomes))
    return ReceiveBenchResult(calls=calls, succeeded=succeeded, wall_seconds=wall,
                              cpu_seconds=cpu)


@click.command(name="receive")
@click.option("--calls", default=10, show_default=True, help="Simultaneous faxes to receive.")
@json_option
@click.pass_context
@handles_errors
def command(ctx: click.Context, calls: int, as_json: bool) -> None:
    """N simultaneous G.711 faxes from the lab ATA into one faxcore serve process."""
    result = run_async(run_receive_bench(state(ctx).config, calls))
    details = {"calls": result.calls, "succeeded": result.succeeded,
               "wall_seconds": round(result.wall_seconds, 2),
               "faxcore_cpu_seconds": round(result.cpu_seconds, 3),
               "faxcore_cpu_per_call_pct": round(result.cpu_per_call_pct, 3),
               "result": result.result_line()}
    text = (f"{result.succeeded}/{result.calls} faxes received in {result.wall_seconds:.1f} s; "
            f"faxcore used {result.cpu_seconds:.2f} s CPU\n{result.result_line()}")
    emit(details, text, as_json)
