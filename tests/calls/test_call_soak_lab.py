"""The call soak of issue 21: hundreds of lab calls while another ARI client walks the channels.

Asterisk 22 was caught deadlocked when a channel lookup met a bridge join
(issue 21). Faxcore's calls join bridges all the time, so this soak places
``FAXCORE_SOAK_CALLS`` calls (default 200), ``FAXCORE_SOAK_LANES`` at a time
(default 2), one after the other in each lane, through the real lab, while a
second ARI client lists every channel and looks each one up without pause.
The mix: faxes from the network to a fax line in T.38 and G.711, faxes the
line sends to the network (the network's machine answers in T.38 for the
first half, G.711 for the second), messages left on a voicemail line, and
faxes sent to that voicemail line (found by fax detection).

Every call must succeed; at the end no channel is left on the PBX and no ARI
request went unanswered. The figures are printed and kept in the evidence
folder. Not part of ``make test``: ``make call-soak`` runs it on SQLite and
PostgreSQL (selected by the ``call_soak`` marker only).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriError, AriNotFound
from faxcore.asterisk.credentials import ari_password
from faxcore.config import FaxcoreConfig
from faxcore.documents import Quality
from faxcore.domain import FaxState, LineMode
from faxcore.fax.loopback import write_synthetic_document
from faxcore.lab.lab import Lab
from faxcore.lab.state import lab_pbx_config
from faxcore.lab.stations import Carrier
from faxcore.lines.service import LineService
from faxcore.reception.store import FaxStore
from faxcore.send import SendRequest
from faxcore.send import wiring as send_wiring
from faxcore.storage.db import Database
from faxcore.voicemail.store import VoicemailStore
from tests.calls.test_serve_lab import serving
from tests.lab_fixtures import EVIDENCE_DIR, LAB_LINE
from tests.voicemail.test_deposit_lab import RATE, sound_seconds, tone, write_wav

pytestmark = [pytest.mark.lab, pytest.mark.call_soak]

CALLS = int(os.environ.get("FAXCORE_SOAK_CALLS", "200"))
LANES = int(os.environ.get("FAXCORE_SOAK_LANES", "2"))
VOICEMAIL_LINE = "+33972100002"  # a DID of the lab's range, no ATA behind it
REMOTE_FAX = "+33140000091"  # the network's fax machine the line sends to
CALL_TIMEOUT = 240.0  # one call, however loaded the machine: far above a 1-page fax


class Kind(enum.StrEnum):
    """The calls of the mix, in the order each lane's calls cycle through them."""

    FAX_IN_T38 = "fax in, T.38"
    FAX_IN_G711 = "fax in, G.711"
    FAX_OUT = "fax out"
    MESSAGE = "voicemail message"
    FAX_TO_VOICEMAIL = "fax to a voicemail line"


@dataclass
class Tally:
    """What the soak did and met, for its report."""

    done: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    sent_transports: Counter[str] = field(default_factory=Counter)
    lookups: int = 0
    lookup_errors: list[str] = field(default_factory=list)


@pytest.fixture
async def soak_lines(lab: Lab, lab_database: FaxcoreConfig) -> AsyncIterator[FaxcoreConfig]:
    """The lab line in fax mode and a voicemail line reached by its DID."""
    async with Database(lab_database.database_url) as db:
        lines = LineService(db)
        await lines.set(LAB_LINE, mode=LineMode.FAX.value)
        if VOICEMAIL_LINE not in {line.number for line in await lines.list()}:
            await lines.add(VOICEMAIL_LINE, "Soak-line-42x")
        await lines.set(VOICEMAIL_LINE, mode=LineMode.VOICEMAIL.value)
    try:
        yield lab_database
    finally:
        async with Database(lab_database.database_url) as db:
            await LineService(db).remove(VOICEMAIL_LINE)


async def _walk_channels(config: FaxcoreConfig, tally: Tally, stop: asyncio.Event) -> None:
    """Another ARI client (its own application name) listing and looking up every channel."""
    ast = lab_pbx_config(config).asterisk
    async with AriClient(ast.ari_url, ast.ari_user, ari_password(config), "soak-walker") as ari:
        while not stop.is_set():
            try:
                channels = await ari.list_channels()
                tally.lookups += 1
                for channel in channels:
                    # A channel may end between the listing and its lookup.
                    with contextlib.suppress(AriNotFound):
                        await ari.get_channel(channel.id)
                    tally.lookups += 1
            except AriError as exc:
                tally.lookup_errors.append(str(exc))
                await asyncio.sleep(0.1)


async def _one_call(kind: Kind, served: FaxcoreConfig, carrier: Carrier, db: Database,
                    document: Path, message: Path, tally: Tally) -> str | None:
    """Place one call of ``kind``; ``None`` when it did what it should, else why not."""
    if kind in (Kind.FAX_IN_T38, Kind.FAX_IN_G711, Kind.FAX_TO_VOICEMAIL):
        to = LAB_LINE if kind is not Kind.FAX_TO_VOICEMAIL else VOICEMAIL_LINE
        mode = "g711" if kind is Kind.FAX_IN_G711 else "t38"
        outcome = await carrier.send_fax(to, document, mode=mode, timeout=CALL_TIMEOUT)
        return None if outcome.fax_ok and outcome.fax.get("FAXPAGES") == "1" else str(outcome)
    if kind is Kind.MESSAGE:
        outcome = await carrier.call(VOICEMAIL_LINE, play=message, seconds=0)
        return None if outcome.answered else str(outcome)
    [job] = await send_wiring.service(lab_pbx_config(served), db).submit(SendRequest(
        line=LAB_LINE, to=[REMOTE_FAX], files=[document], quality=Quality.NORMAL))
    queue = send_wiring.queue(lab_pbx_config(served), db)
    deadline = time.monotonic() + CALL_TIMEOUT
    while (view := await queue.job(job.id)).state in ("queued", "sending"):
        if time.monotonic() > deadline:
            return f"job {job.id} still {view.state} after {CALL_TIMEOUT:.0f} s"
        await asyncio.sleep(0.5)
    if view.state != "sent" or view.attempts != 1:
        return f"job {job.id}: {view.state} after {view.attempts} attempt(s): {view.reason}"
    tally.sent_transports[view.history[-1].transport if view.history else "?"] += 1
    return None


async def _lane(calls: itertools.count[int], served: FaxcoreConfig, carrier: Carrier,
                out: Path, document: Path, message: Path, tally: Tally) -> None:
    kinds = list(Kind)
    async with Database(served.database_url) as db:
        while (index := next(calls)) < CALLS:
            kind = kinds[index % len(kinds)]
            if index == CALLS // 2:
                await carrier.receive_fax(out, mode="g711", answer="on")
            started = time.monotonic()
            try:
                failure = await _one_call(kind, served, carrier, db, document, message, tally)
            except Exception as exc:  # a station or database error is this call's failure
                failure = f"{type(exc).__name__}: {exc}"
            if failure is not None:
                tally.failures.append(f"call {index} ({kind}, {time.monotonic() - started:.0f} "
                                      f"s): {failure}")
            tally.done[kind] += 1


@pytest.mark.timeout(4 * 3600)
async def test_hundreds_of_calls_while_another_client_walks_the_channels_all_succeed(
        lab: Lab, soak_lines: FaxcoreConfig, tmp_path: Path, request: pytest.FixtureRequest,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    document = tmp_path / "one-page.tif"
    write_synthetic_document(document, 1)
    wait = sound_seconds(lab, "vm-intro") + sound_seconds(lab, "beep") + 0.3
    message = write_wav(tmp_path / "message.wav", [0] * int(wait * RATE) + tone(2.0))
    out = tmp_path / "remote"
    tally, stop = Tally(), asyncio.Event()
    started = time.monotonic()
    async with Database(soak_lines.database_url) as db:
        faxes_before = {f.id for f in await FaxStore(db, soak_lines.fax_dir).list(limit=10_000)}
        messages_before = len(await VoicemailStore(db, soak_lines).list(VOICEMAIL_LINE))
    async with serving(soak_lines) as served:
        carrier = Carrier(served)
        await carrier.receive_fax(out, mode="t38", answer="on")
        calls = itertools.count()
        walker = asyncio.create_task(_walk_channels(served, tally, stop))
        try:
            async with asyncio.TaskGroup() as lanes:
                for _ in range(LANES):
                    lanes.create_task(_lane(calls, served, carrier, out, document, message,
                                            tally))
        finally:
            stop.set()
            await walker
    wall = time.monotonic() - started
    async with Database(soak_lines.database_url) as db:
        new_faxes = [f for f in await FaxStore(db, soak_lines.fax_dir).list(limit=10_000)
                     if f.id not in faxes_before]
        new_messages = len(await VoicemailStore(db, soak_lines).list(VOICEMAIL_LINE)) \
            - messages_before
    left = await _channels_left(lab)
    stalls = [r.getMessage() for r in caplog.records
              if r.name == "faxcore.ari.client" and "got no answer" in r.getMessage()]
    expected_faxes = sum(tally.done[k] for k in (Kind.FAX_IN_T38, Kind.FAX_IN_G711,
                                                 Kind.FAX_TO_VOICEMAIL))
    received = sum(f.state is FaxState.RECEIVED and f.pages == 1 for f in new_faxes)
    report = "\n".join([
        f"call soak on {request.node.callspec.params['lab_database']}: {sum(tally.done.values())}"
        f" calls in {wall:.0f} s, {LANES} at a time",
        *(f"  {kind}: {tally.done[kind]}" for kind in Kind),
        f"  faxes sent by transport: {dict(tally.sent_transports)}",
        f"  faxes received: {received} of {expected_faxes}; messages stored: {new_messages} "
        f"of {tally.done[Kind.MESSAGE]}",
        f"  failed calls: {len(tally.failures)}",
        *(f"    {failure}" for failure in tally.failures),
        f"  channel walker: {tally.lookups} requests, {len(tally.lookup_errors)} errors",
        *(f"    {error}" for error in tally.lookup_errors[:10]),
        f"  ARI requests without an answer: {len(stalls)}",
        f"  channels left on the PBX: {left}",
    ])
    EVIDENCE_DIR.mkdir(parents=True, exist_ok=True)
    (EVIDENCE_DIR / f"call-soak-{request.node.callspec.id}.txt").write_text(report + "\n")
    with capsys.disabled():
        print("\n" + report)
    assert sum(tally.done.values()) == CALLS, report
    assert not tally.failures and not tally.lookup_errors and not stalls, report
    assert received == expected_faxes and new_messages == tally.done[Kind.MESSAGE], report
    assert left == 0, report
    assert tally.sent_transports["t38"] and tally.sent_transports["audio"], report


async def _channels_left(lab: Lab) -> int:
    """Channels the PBX still has a moment after the last call ("core show channels count")."""
    for _ in range(20):
        out = await lab.pbx.rx("core show channels count")
        count = int(next(line.split()[0] for line in out.splitlines()
                         if line.rstrip().endswith(("active channel", "active channels"))))
        if count == 0:
            return 0
        await asyncio.sleep(0.5)
    return count
