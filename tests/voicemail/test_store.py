"""Mailbox storage on SQLite and PostgreSQL: messages, Deleted folder, retention (V2, V6, V7)."""

from __future__ import annotations

import array
import io
import json
import os
import stat
import wave
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from faxcore.config import FaxcoreConfig
from faxcore.domain import VoicemailFolder
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.models import Line, OutboxEvent, VoicemailMessage, utcnow
from faxcore.voicemail.quota import Usage
from faxcore.voicemail.store import VoicemailStore, publish_sound

NUMBER = "+33972100009"


def wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(array.array("h", [1000] * int(seconds * 8000)).tobytes())
    return out.getvalue()


async def _line_id(database: Database) -> int:
    await LineService(database).add(NUMBER, "Store-line-42x")
    async with database.session(read_only=True) as session:
        line = await session.scalar(select(Line).where(Line.number == NUMBER))
        assert line is not None
        return line.id


async def _age(database: Database, message_id: int, days: int) -> None:
    async with database.session() as session:
        await session.execute(update(VoicemailMessage).where(VoicemailMessage.id == message_id)
                              .values(received_at=utcnow() - timedelta(days=days)))


async def test_saved_message_keeps_audio_length_and_emits_its_event(
        database: Database, config: FaxcoreConfig) -> None:
    store = VoicemailStore(database, config)
    line_id = await _line_id(database)
    message = await store.save_message(line_id, "0612345678", wav(2.5), urgent=True)
    assert message.duration_s == 2.5 and message.urgent and message.folder is VoicemailFolder.NEW
    assert Path(message.path).read_bytes() == wav(2.5)
    async with database.session(read_only=True) as session:
        kinds = list(await session.scalars(select(OutboxEvent.kind)))
    assert [k for k in kinds if k.startswith("voicemail.")] == ["voicemail.message"]


async def test_delete_restore_and_purge(database: Database, config: FaxcoreConfig) -> None:
    store = VoicemailStore(database, config)
    line_id = await _line_id(database)
    message = await store.save_message(line_id, "0612345678", wav(1.5))
    assert (await store.delete(message.id)).folder is VoicemailFolder.DELETED
    assert [m.id for m in await store.list(NUMBER, VoicemailFolder.DELETED)] == [message.id]
    assert (await store.restore(message.id)).folder is VoicemailFolder.OLD
    assert await store.purge([message.id]) == 1
    assert await store.list(NUMBER) == [] and not Path(message.path).exists()


async def test_retention_removes_exactly_the_messages_past_age_or_count(
        database: Database, config: FaxcoreConfig) -> None:
    limited = replace(config, voicemail=replace(config.voicemail, max_messages=2,
                                                retention_days=180))
    store = VoicemailStore(database, limited)
    line_id = await _line_id(database)
    ids = [(await store.save_message(line_id, str(i), wav(1.2))).id for i in range(5)]
    await _age(database, ids[0], 181)  # past the age limit
    await _age(database, ids[1], 179)  # young enough, but beyond the 2 newest
    await _age(database, ids[2], 10)   # beyond the 2 newest
    await store.delete(ids[4])          # Deleted: not counted, not expired
    assert await store.enforce_retention() == 2
    left = {m.id for m in await store.list(NUMBER)}
    assert left == {ids[2], ids[3], ids[4]}
    assert await store.enforce_retention() == 0


async def test_crossing_the_warning_level_raises_one_nearly_full_event(
        database: Database, config: FaxcoreConfig) -> None:
    limited = replace(config, voicemail=replace(config.voicemail, max_messages=4,
                                                nearly_full_percent=75))
    store = VoicemailStore(database, limited)
    line_id = await _line_id(database)
    ids = [(await store.save_message(line_id, str(i), wav(1.2))).id for i in range(4)]
    assert store.quota.is_full(await store.usage(line_id))
    async with database.session(read_only=True) as session:
        events = list(await session.scalars(select(OutboxEvent).where(
            OutboxEvent.kind == "voicemail.mailbox_nearly_full")))
    assert len(events) == 1  # at the 3rd message (75 %), not again at the 4th
    assert json.loads(events[0].payload)["data"]["messages"] == 3
    await store.delete(ids[0])  # Deleted does not count: room again
    assert await store.usage(line_id) == Usage(3, 3 * len(wav(1.2)))
    assert not store.quota.is_full(await store.usage(line_id))


async def test_message_audio_is_private_whatever_the_umask(
        database: Database, config: FaxcoreConfig) -> None:
    os.umask(0o022)
    store = VoicemailStore(database, config)
    message = await store.save_message(await _line_id(database), "0612345678", wav(1.0))
    audio = Path(message.path)
    assert stat.S_IMODE(audio.stat().st_mode) == 0o600
    assert stat.S_IMODE(audio.parent.stat().st_mode) == 0o700
    assert [p.name for p in audio.parent.iterdir()] == [audio.name]


def test_a_published_sound_is_readable_by_the_sounds_folder_group_only(tmp_path: Path) -> None:
    os.umask(0o077)
    source = tmp_path / "greeting.wav"
    source.write_bytes(wav(0.5))
    sounds = tmp_path / "sounds"
    publish_sound(source, sounds / "g.wav")
    assert stat.S_IMODE(sounds.stat().st_mode) == 0o750
    assert stat.S_IMODE((sounds / "g.wav").stat().st_mode) == 0o640
    assert (sounds / "g.wav").read_bytes() == source.read_bytes()
