"""The voicemail feature's periodic pass: retention, MWI, and leftovers of killed calls."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from faxcore.config import FaxcoreConfig
from faxcore.storage.db import Database
from faxcore.voicemail.store import VoicemailStore
from faxcore.voicemail.wiring import retention_pass


async def test_message_copies_left_by_dial_in_calls_of_a_killed_faxcore_are_removed(
        database: Database, config: FaxcoreConfig, tmp_path: Path) -> None:
    """A copy lives as long as its call: a day-old one belongs to none (11.11)."""
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    config = dataclasses.replace(
        config, voicemail=dataclasses.replace(config.voicemail, sounds_dir=str(sounds)))
    leftover = sounds / "msg-1733000000.42-7.wav"
    live = sounds / "msg-1733000999.17-8.wav"
    greeting = sounds / "33123456789-personal-0123456789ab.wav"
    for path in (leftover, live, greeting):
        path.write_bytes(b"RIFF")
    two_days_ago = time.time() - 2 * 86400
    for path in (leftover, greeting):
        os.utime(path, (two_days_ago, two_days_ago))
    await retention_pass(VoicemailStore(database, config))
    assert not leftover.exists()
    assert live.exists() and greeting.exists()  # a call's copy, a published greeting
