"""End to end in the lab: a message left on an answering machine is mailed with its audio.

``faxcore serve`` runs in-process with an SMTP server configured; the ATA
calls its line (in answering-machine mode), waits out the greeting and the
beep, speaks a 4 s tone and hangs up. The mail carries the message as MP3 of
the stored message's length (V8, N2).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydub import AudioSegment

from faxcore.config import FaxcoreConfig, NotifyConfig, SmtpConfig
from faxcore.domain import LineMode
from faxcore.lab.lab import Lab
from faxcore.lab.stations import Ata
from faxcore.lines.service import LineService
from faxcore.notify.addresses import NotifyService
from faxcore.notify.states import NotificationState
from faxcore.storage.db import Database
from tests.calls.test_serve_lab import serving
from tests.lab_fixtures import LAB_LINE
from tests.notify.conftest import SmtpServer, notifications_of
from tests.voicemail.test_deposit_lab import (
    RATE,
    _clear,
    messages,
    set_mode,
    sound_seconds,
    tone,
    write_wav,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ADDRESS = "accueil@example.com"
CALLER = "0677889900"


def _mails_from(server: SmtpServer, caller: str) -> list[EmailMessage]:
    return [m for m in server.mailbox.snapshot() if caller in str(m["Subject"])]


async def test_a_message_left_in_the_lab_is_mailed_as_mp3_of_its_length(
        lab: Lab, lab_config: FaxcoreConfig, smtp_server: SmtpServer, tmp_path: Path) -> None:
    config = dataclasses.replace(
        lab_config,
        smtp=SmtpConfig(url=smtp_server.url, timeout=10.0, from_address="vm@example.net"),
        notify=NotifyConfig(poll_interval=0.1, retry_initial=0.5, retry_max=2.0))
    await set_mode(config, LineMode.VOICEMAIL)
    async with Database(config.database_url) as db:
        await LineService(db).set(LAB_LINE, audio_format="mp3", language="fr")
        await NotifyService(db).add(LAB_LINE, ADDRESS, "voicemail")
    lead = sound_seconds(lab, "vm-intro") + sound_seconds(lab, "beep") + 0.3
    spoken = write_wav(tmp_path / "spoken.wav", [0] * int(lead * RATE) + tone(4.0))
    try:
        async with serving(config) as served:
            await _clear(served)
            outcome = await Ata(served).call(LAB_LINE, play=spoken, seconds=0,
                                             caller_id=CALLER)
            assert outcome.answered, outcome
            async with asyncio.timeout(60):
                while not await _sent_from(served, smtp_server, CALLER):
                    await asyncio.sleep(0.1)
        (kept,) = await messages(config)
    finally:
        async with Database(config.database_url) as db:
            await NotifyService(db).remove(LAB_LINE, ADDRESS)
        await set_mode(config, LineMode.FAX)
    assert 3.0 <= kept.duration_s <= 5.0, kept
    # serve has stopped, its notifier with it: a doubled mail is in the mailbox
    # now or was never sent.
    (mail,) = _mails_from(smtp_server, CALLER)
    assert mail["To"] == ADDRESS
    event_id = str(mail["Message-ID"]).split(".")[0].strip("<")
    queued = await notifications_of(config.database_url, event_id)
    assert [(n.address, n.state) for n in queued] == [(ADDRESS, NotificationState.SENT)]
    (audio,) = list(mail.iter_attachments())
    assert audio.get_content_type() == "audio/mpeg"
    decoded = AudioSegment.from_file(io.BytesIO(audio.get_content()), format="mp3")
    assert abs(decoded.duration_seconds - kept.duration_s) < 0.15


async def _sent_from(config: FaxcoreConfig, server: SmtpServer, caller: str) -> bool:
    """A mail from ``caller`` arrived and its event's mails are all recorded as sent."""
    mails = _mails_from(server, caller)
    if not mails:
        return False
    event_id = str(mails[0]["Message-ID"]).split(".")[0].strip("<")
    queued = await notifications_of(config.database_url, event_id)
    return bool(queued) and all(n.state == NotificationState.SENT for n in queued)
