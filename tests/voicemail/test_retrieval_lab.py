"""Dial-in retrieval against the real lab (V3, V4): the ATA dials the access number.

Mailbox and PIN are typed as DTMF from the ATA's call file ('w' = 0.5 s);
faxcore serve drives the menu over ARI. What changed is read back from the
store, the outbox events and the CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode, VoicemailFolder
from faxcore.lab.lab import Lab
from faxcore.lab.state import lab_pbx_config
from faxcore.lab.stations import Ata, CallOutcome
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.models import Line, OutboxEvent, SecretAttempt
from faxcore.voicemail.store import VoicemailStore
from tests.calls.test_serve_lab import serving, wait_for
from tests.lab_fixtures import LAB_LINE
from tests.voicemail.test_deposit_lab import (
    RATE,
    _clear,
    _mwi,
    best_correlation,
    cli,
    envelope,
    set_mode,
    sound_seconds,
    tone,
    write_wav,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ACCESS = "8500"
MWI_POLL_SECONDS = 2  # pollfreq in asterisk-conf/voicemail.conf.j2
PIN = "4826"
MAILBOX = "0972100001"  # LAB_LINE as dialled in France


@pytest.fixture
async def dial_in(lab: Lab, lab_database: FaxcoreConfig) -> AsyncIterator[FaxcoreConfig]:
    """The lab line in answering-machine mode with a PIN, and an access number."""
    config = replace(lab_database,
                     voicemail=replace(lab_database.voicemail, access_number=ACCESS))
    await set_mode(config, LineMode.VOICEMAIL)
    async with Database(config.database_url) as db:
        await LineService(db).set(LAB_LINE, pin=PIN)
        await VoicemailStore(db, config).set_options(LAB_LINE, autoplay=False)
    yield config
    await set_mode(config, LineMode.FAX)


def envelope_of_tone(seconds: float) -> list[float]:
    """10 ms RMS frames of silence, a tone of ``seconds``, silence: the message's shape."""
    return [0.0] * 30 + [5000.0] * int(seconds * 100) + [0.0] * 5


async def call_access(config: FaxcoreConfig, **options: Any) -> CallOutcome:
    """One ATA call to the access number: serve is ready, so it must be answered."""
    outcome = await Ata(config).call(ACCESS, **options)
    assert outcome.answered, outcome
    return outcome


async def _events(config: FaxcoreConfig, kinds: tuple[str, ...],
                  after: int = 0) -> list[tuple[str, str]]:
    """Events of ``kinds`` written after the outbox row ``after``, oldest first."""
    async with Database(config.database_url) as db, db.session(read_only=True) as session:
        rows = await session.execute(select(OutboxEvent.kind, OutboxEvent.payload)
                                     .where(OutboxEvent.kind.in_(kinds),
                                            OutboxEvent.id > after)
                                     .order_by(OutboxEvent.id))
        return [(kind, payload) for kind, payload in rows]


async def _last_event(db: Database) -> int:
    """The newest outbox row id (message ids of purged messages may come back)."""
    async with db.session(read_only=True) as session:
        return int(await session.scalar(select(func.max(OutboxEvent.id))) or 0)


async def test_dial_in_plays_a_message_then_deletes_it_and_3_wrong_pins_end_a_call(
        lab: Lab, dial_in: FaxcoreConfig, tmp_path: Path) -> None:
    """Both calls in one serve: a second serve started at once races the app's activation."""
    audio = write_wav(tmp_path / "msg.wav", [0] * (RATE // 2) + tone(2.0)).read_bytes()
    ata_log = lab.chroot.host_path("/var/log/faxcore-lab/ata/messages.log")
    await lab.ata.rx("pjsip set logger on")
    # login, '1' plays envelope + message (about 15 s), '7' deletes, '#' leaves.
    keys = f"ww{MAILBOX}#ww{PIN}#wwww1{'w' * 60}7wwww#"
    wrong = "ww" + "".join(f"{MAILBOX}#ww9051#wwww" for _ in range(3))
    heard = tmp_path / "heard.wav"
    try:
        async with serving(dial_in) as served, Database(served.database_url) as db:
            store = VoicemailStore(db, lab_pbx_config(served))  # MWI mirrored as serve does
            line_id = await store.line_id(LAB_LINE)
            await _clear(served)
            await store.sync_mwi(line_id)  # also markers left by an earlier lab session
            # Asterisk polls the counts every 2 s: it must see the empty mailbox
            # before the message, or it sees no change and sends no NOTIFY.
            await asyncio.sleep(MWI_POLL_SECONDS * 2.5)
            async with db.session(read_only=True) as session:
                before = len(list(await session.scalars(select(SecretAttempt))))
            offset = ata_log.stat().st_size
            last = await _last_event(db)
            kept = await store.save_message(line_id, "0611223344", audio)
            await wait_for(lambda: _mwi(ata_log, offset, "yes"), 20, "MWI on at the ATA")
            offset = ata_log.stat().st_size
            outcome = await call_access(served, dtmf=keys, record=heard, seconds=20,
                                        caller_id="0699887766")
            await wait_for(lambda: _mwi(ata_log, offset, "no"), 20, "MWI off at the ATA")
            refused = await call_access(served, dtmf=wrong, seconds=60)
    finally:
        await lab.ata.rx("pjsip set logger off")
    assert outcome.answered, outcome
    # The message's 2 s tone reached the caller (prompts are speech, not 2 s of steady level).
    assert best_correlation(envelope(heard), envelope_of_tone(2.0)) > 0.8
    async with Database(dial_in.database_url) as db:
        after = await VoicemailStore(db, dial_in).get(kept.id)
        async with db.session(read_only=True) as session:
            failures = len(list(await session.scalars(select(SecretAttempt))))
    assert after.folder is VoicemailFolder.DELETED
    ours = [kind for kind, payload in await _events(
        dial_in, ("voicemail.heard", "voicemail.deleted"), last) if f'"message_id": {kept.id}' in
        payload or f'"message_id":{kept.id}' in payload]
    assert ours == ["voicemail.heard", "voicemail.deleted"]
    listed = await cli(dial_in, "vm", "list", "--line", LAB_LINE, "--folder", "deleted",
                       "--json")
    assert f'"id": {kept.id}' in listed
    # Three wrong PINs: faxcore hung up, long before the ATA's own 60 s wait.
    assert refused.answered and refused.elapsed < 55, refused
    assert failures - before == 3


async def test_unavailable_greeting_recorded_by_phone_is_what_callers_hear_next(
        lab: Lab, dial_in: FaxcoreConfig, tmp_path: Path) -> None:
    """Options 0 then 1: the prompt, a beep, the caller's recording becomes the greeting."""
    pattern = "110100111010001101"
    samples: list[int] = []
    for bit in pattern:
        samples += tone(0.1, 660.0) if bit == "1" else [0] * (RATE // 10)
    # The ATA starts playing once its keys are sent: silence covers the
    # "record your unavailable message" prompt and the beep, not much more
    # (silence after the beep would end the recording).
    lead = sound_seconds(lab, "vm-rec-unv") + sound_seconds(lab, "beep") + 1.0
    spoken = write_wav(tmp_path / "spoken.wav", [0] * int(RATE * lead) + samples)
    keys = f"ww{MAILBOX}#ww{PIN}#wwww0ww1"
    async with serving(dial_in) as served:
        outcome = await call_access(served, dtmf=keys, play=spoken,
                                    seconds=dial_in.voicemail.silence_seconds + 4)
    assert outcome.answered, outcome
    async with Database(dial_in.database_url) as db:
        store = VoicemailStore(db, dial_in)
        async with db.session(read_only=True) as session:
            line_id = await session.scalar(select(Line.id).where(Line.number == LAB_LINE))
        assert line_id is not None
        _, _, recorded = await store.settings(line_id)
    assert "unavailable" in recorded, recorded
    kept = envelope(recorded["unavailable"])
    template = [5000.0 if bit == "1" else 0.0 for bit in pattern for _ in range(10)]
    assert best_correlation(kept, template) > 0.8


async def test_by_phone_the_pin_is_changed_a_message_saved_and_another_marked_new(
        lab: Lab, dial_in: FaxcoreConfig, tmp_path: Path) -> None:
    """V4 by phone: options then 5 takes a new PIN typed twice; in the first (new) message
    9 saves it, which opens the next (heard) one, where 8 marks it new again."""
    new_pin = "7193"
    audio = write_wav(tmp_path / "msg.wav", [0] * (RATE // 2) + tone(1.0)).read_bytes()
    keys = f"ww{MAILBOX}#ww{PIN}#wwww0ww5ww{new_pin}#ww{new_pin}#ww1ww9ww8ww#"
    async with serving(dial_in) as served, Database(served.database_url) as db:
        store = VoicemailStore(db, lab_pbx_config(served))
        await _clear(served)
        line_id = await store.line_id(LAB_LINE)
        fresh = await store.save_message(line_id, "0611223344", audio)
        heard = await store.mark((await store.save_message(line_id, "0655667788", audio)).id,
                                 heard=True)
        assert heard.folder is VoicemailFolder.OLD
        outcome = await call_access(served, dtmf=keys, seconds=30)
        # '#' said goodbye: faxcore hung up before the ATA's own 30 s wait ran out.
        assert outcome.elapsed < 45, outcome
        assert (await store.get(fresh.id)).folder is VoicemailFolder.OLD
        assert (await store.get(heard.id)).folder is VoicemailFolder.NEW
        assert await LineService(db).verify_pin(LAB_LINE, new_pin, who="test")
