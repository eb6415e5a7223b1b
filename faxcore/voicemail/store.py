"""Mailbox storage: message audio files plus their rows, greetings, settings.

Audio is written to a temporary name, flushed and renamed before the row is
committed, so a row never points at a half-written file; if the transaction
fails the file is removed again. The ``voicemail.message`` event is emitted
in the same transaction as the row (``faxcore.events``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from faxcore.config import FaxcoreConfig
from faxcore.domain import VoicemailFolder
from faxcore.events.kinds import EventKind, LineChange
from faxcore.events.outbox import emit, line_changed
from faxcore.lines.errors import LineNotFound
from faxcore.lines.service import find_line
from faxcore.storage.db import Database
from faxcore.storage.files import SHARED_DIR_MODE, SHARED_FILE_MODE, write_atomic
from faxcore.storage.models import Line, VoicemailBox, VoicemailGreeting, VoicemailMessage, utcnow
from faxcore.voicemail.audio import wav_duration_ms
from faxcore.voicemail.errors import InvalidGreeting, InvalidOption, MessageNotFound
from faxcore.voicemail.greetings import BASE_KINDS, OVERRIDE_KINDS, RECORDED_KINDS
from faxcore.voicemail.menu import Envelope
from faxcore.voicemail.mwi import mirror_counts
from faxcore.voicemail.quota import Quota, Usage
from faxcore.voicemail.retention import Kept, expired


@dataclass(frozen=True)
class MailboxOptions:
    """How dial-in retrieval behaves for a mailbox (V3, V4)."""

    line: str
    skip_pin: bool
    autoplay: bool
    envelope: Envelope


@dataclass(frozen=True)
class MessageView:
    """What the CLI and API show about a message."""

    id: int
    line: str
    caller: str
    received_at: datetime
    duration_s: float
    folder: VoicemailFolder
    urgent: bool
    private: bool
    size: int
    path: str

    @classmethod
    def of(cls, row: VoicemailMessage, line: str) -> MessageView:
        """Snapshot an ORM row."""
        return cls(id=row.id, line=line, caller=row.caller, received_at=row.received_at,
                   duration_s=row.duration_ms / 1000, folder=row.folder, urgent=row.urgent,
                   private=row.private, size=row.size, path=row.path)


def _write_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, data)


def publish_sound(source: Path, target: Path) -> None:
    """Copy ``source`` where Asterisk reads sounds, readable by that folder's group (0640)."""
    folder = target.parent
    if not folder.is_dir():
        folder.mkdir(parents=True, mode=SHARED_DIR_MODE)
        folder.chmod(SHARED_DIR_MODE)
    write_atomic(target, source.read_bytes(), SHARED_FILE_MODE, folder.stat().st_gid)


async def _to_wav8k(source: Path, out: Path) -> None:
    """Asterisk plays 8 kHz mono 16-bit WAV best: convert what sox reads into that."""
    proc = await asyncio.create_subprocess_exec(
        "sox", str(source), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
        str(out), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        out.unlink(missing_ok=True)
        raise InvalidGreeting(f"{source}: not a readable audio file "
                              f"({err.decode(errors='replace').strip()})")


class VoicemailStore:
    """Messages, greetings and mailbox settings of answering-machine lines."""

    def __init__(self, db: Database, config: FaxcoreConfig) -> None:
        self.db = db
        self.config = config
        self.root = config.data_dir / "voicemail"
        self.quota = Quota.of(config.voicemail)

    def _line_dir(self, number: str) -> Path:
        return self.root / number.lstrip("+")

    async def line_id(self, number: str) -> int:
        """The id of the line ``number`` (any accepted form); LineNotFound if none."""
        async with self.db.session(read_only=True) as session:
            return (await self._line(session, number)).id

    @staticmethod
    async def _line(session: AsyncSession, number: str) -> Line:
        return await find_line(session, number)

    @staticmethod
    async def _box(session: AsyncSession, line_id: int) -> VoicemailBox:
        """The line's settings row, created with the defaults on first change."""
        box = await session.get(VoicemailBox, line_id)
        if box is None:
            box = VoicemailBox(line_id=line_id, greeting="system", override=None,
                               skip_pin=False, autoplay=False, envelope=Envelope.BOTH.value)
            session.add(box)
        return box

    # -- greetings ------------------------------------------------------------

    async def settings(self, line_id: int) -> tuple[str, str | None, dict[str, Path]]:
        """The chosen greeting, the enabled override and the recorded files by kind."""
        async with self.db.session(read_only=True) as session:
            box = await session.get(VoicemailBox, line_id)
            rows = await session.scalars(
                select(VoicemailGreeting).where(VoicemailGreeting.line_id == line_id))
            recorded = {row.kind: Path(row.path) for row in rows if Path(row.path).is_file()}
        if box is None:
            return "system", None, recorded
        return box.greeting, box.override, recorded

    async def set_greeting(self, number: str, kind: str, source: Path) -> Path:
        """Store an uploaded greeting (any format sox reads) as the line's ``kind``."""
        if kind not in RECORDED_KINDS:
            raise InvalidGreeting(f"greeting kind must be one of {', '.join(RECORDED_KINDS)}")
        if not source.is_file():
            raise InvalidGreeting(f"{source}: no such file")
        async with self.db.session(read_only=True) as session:
            line = await self._line(session, number)
            line_number = line.number
        target = self._line_dir(line_number) / "greetings" / f"{kind}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        work = target.with_name(f"{kind}.part.wav")
        await _to_wav8k(source, work)
        digest = hashlib.sha256(work.read_bytes()).hexdigest()
        work.rename(target)
        async with self.db.session() as session:
            line = await self._line(session, number)
            row = await session.scalar(select(VoicemailGreeting).where(
                VoicemailGreeting.line_id == line.id, VoicemailGreeting.kind == kind))
            if row is None:
                session.add(VoicemailGreeting(line_id=line.id, kind=kind, path=str(target),
                                              sha256=digest))
            else:
                row.path, row.sha256 = str(target), digest
            await line_changed(session, line.number, LineChange.GREETING, [kind])
        return target

    async def use_greeting(self, number: str, kind: str) -> None:
        """Choose the base greeting, or enable an override (``none`` disables it)."""
        if kind not in (*BASE_KINDS, *OVERRIDE_KINDS, "none"):
            raise InvalidGreeting(
                f"greeting must be one of {', '.join((*BASE_KINDS, *OVERRIDE_KINDS, 'none'))}")
        async with self.db.session() as session:
            line = await self._line(session, number)
            box = await self._box(session, line.id)
            if kind in BASE_KINDS:
                box.greeting = kind
            else:
                box.override = None if kind == "none" else kind
            await line_changed(session, line.number, LineChange.GREETING, [kind])

    async def set_options(self, number: str, *, skip_pin: bool | None = None,
                          autoplay: bool | None = None,
                          envelope: str | None = None) -> MailboxOptions:
        """Retrieval options (V3, V4): no PIN from the line itself, autoplay, envelope.

        Options not given are left as they are; returns them all.
        """
        if envelope is not None and envelope not in {e.value for e in Envelope}:
            raise InvalidOption(f"envelope must be one of {', '.join(e.value for e in Envelope)}")
        async with self.db.session() as session:
            line = await self._line(session, number)
            box = await self._box(session, line.id)
            if skip_pin is not None:
                box.skip_pin = skip_pin
            if autoplay is not None:
                box.autoplay = autoplay
            if envelope is not None:
                box.envelope = envelope
            given = {"skip_pin": skip_pin, "autoplay": autoplay, "envelope": envelope}
            await line_changed(session, line.number, LineChange.MAILBOX_OPTIONS,
                               [name for name, value in given.items() if value is not None])
            return MailboxOptions(line.number, box.skip_pin, box.autoplay, Envelope(box.envelope))

    # -- messages -------------------------------------------------------------

    async def usage(self, line_id: int) -> Usage:
        """What counts against the mailbox limits (messages not in Deleted)."""
        async with self.db.session(read_only=True) as session:
            return await self._usage(session, line_id)

    @staticmethod
    async def _usage(session: AsyncSession, line_id: int) -> Usage:
        messages, size = (await session.execute(
            select(func.count(), func.coalesce(func.sum(VoicemailMessage.size), 0)).where(
                VoicemailMessage.line_id == line_id,
                VoicemailMessage.folder != VoicemailFolder.DELETED))).one()
        return Usage(int(messages), int(size))

    async def counts(self, line_id: int) -> tuple[int, int]:
        """(new, old) message counts, for the menu and MWI."""
        async with self.db.session(read_only=True) as session:
            rows = (await session.execute(
                select(VoicemailMessage.folder, func.count()).where(
                    VoicemailMessage.line_id == line_id).group_by(VoicemailMessage.folder)
            )).all()
        by_folder = {folder: int(n) for folder, n in rows}
        return by_folder.get(VoicemailFolder.NEW, 0), by_folder.get(VoicemailFolder.OLD, 0)

    async def save_message(self, line_id: int, caller: str, audio: bytes,
                           urgent: bool = False) -> MessageView:
        """Keep a message: the file first, then its row and events in one transaction.

        ``voicemail.mailbox_nearly_full`` goes with the message that crosses the
        warning level (V7).
        """
        duration_ms = wav_duration_ms(audio)
        received = utcnow()
        async with self.db.session(read_only=True) as session:
            line = await session.get(Line, line_id)
            if line is None:
                raise LineNotFound(f"no line with id {line_id}")
            number = line.number
        path = (self._line_dir(number) / "messages"
                / f"{received:%Y%m%dT%H%M%S%f}-{os.urandom(4).hex()}.wav")
        await asyncio.to_thread(_write_durably, path, audio)
        try:
            async with self.db.session() as session:
                before = await self._usage(session, line_id)
                row = VoicemailMessage(
                    line_id=line_id, caller=caller, received_at=received,
                    duration_ms=duration_ms, size=len(audio), path=str(path),
                    folder=VoicemailFolder.NEW, urgent=urgent, private=False)
                session.add(row)
                await session.flush()
                await emit(session, line=number, kind=EventKind.VOICEMAIL_MESSAGE, data={
                    "message_id": row.id, "caller": caller, "duration_s": duration_ms / 1000,
                    "audio_path": str(path), "urgent": urgent, "private": False})
                after = before.plus(len(audio))
                if self.quota.warns(before, after):
                    await emit(session, line=number, kind=EventKind.VOICEMAIL_MAILBOX_NEARLY_FULL,
                               data=self.quota.event_data(after))
                view = MessageView.of(row, number)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        await self.sync_mwi(line_id)
        return view

    async def sync_mwi(self, line_id: int) -> None:
        """Mirror the line's new/old counts where Asterisk turns them into MWI (V9)."""
        spool = self.config.voicemail.mwi_spool_dir
        if not spool:
            return
        new, old = await self.counts(line_id)
        async with self.db.session(read_only=True) as session:
            line = await session.get(Line, line_id)
        if line is not None:
            await asyncio.to_thread(mirror_counts, Path(spool), line.number, new, old)

    async def sync_all_mwi(self) -> None:
        """Every line's MWI counts (at start and with each retention pass)."""
        async with self.db.session(read_only=True) as session:
            ids = list(await session.scalars(select(Line.id)))
        for line_id in ids:
            await self.sync_mwi(line_id)

    async def list(self, number: str, folder: VoicemailFolder | None = None
                   ) -> list[MessageView]:
        """Messages of a line, urgent first then oldest first (the order they are played)."""
        async with self.db.session(read_only=True) as session:
            line = await self._line(session, number)
            query = select(VoicemailMessage).where(VoicemailMessage.line_id == line.id)
            if folder is not None:
                query = query.where(VoicemailMessage.folder == folder)
            rows = await session.scalars(query.order_by(
                VoicemailMessage.urgent.desc(), VoicemailMessage.received_at,
                VoicemailMessage.id))
            return [MessageView.of(row, line.number) for row in rows]

    async def get(self, message_id: int) -> MessageView:
        """One message by id."""
        async with self.db.session(read_only=True) as session:
            row = await session.get(VoicemailMessage, message_id)
            if row is None:
                raise MessageNotFound(f"no voicemail message {message_id}")
            line = await session.get(Line, row.line_id)
            return MessageView.of(row, line.number if line else "")

    async def export(self, message_id: int, out: Path) -> MessageView:
        """Copy a message's audio to ``out``."""
        view = await self.get(message_id)
        await asyncio.to_thread(shutil.copyfile, view.path, out)
        return view

    async def _move(self, message_id: int, folder: VoicemailFolder) -> MessageView:
        async with self.db.session() as session:
            row = await session.get(VoicemailMessage, message_id)
            if row is None:
                raise MessageNotFound(f"no voicemail message {message_id}")
            line = await session.get(Line, row.line_id)
            number = line.number if line else ""
            if folder is VoicemailFolder.DELETED and row.folder is not folder:
                row.deleted_at = utcnow()
                await emit(session, line=number, kind=EventKind.VOICEMAIL_DELETED,
                           data={"message_id": row.id, "purged": False})
            elif folder is VoicemailFolder.OLD and row.folder is VoicemailFolder.NEW:
                await emit(session, line=number, kind=EventKind.VOICEMAIL_HEARD,
                           data={"message_id": row.id})
            elif row.folder is VoicemailFolder.DELETED and folder is not VoicemailFolder.DELETED:
                await emit(session, line=number, kind=EventKind.VOICEMAIL_RESTORED,
                           data={"message_id": row.id})
            elif folder is VoicemailFolder.NEW and row.folder is VoicemailFolder.OLD:
                await emit(session, line=number, kind=EventKind.VOICEMAIL_MARKED_NEW,
                           data={"message_id": row.id})
            if folder is not VoicemailFolder.DELETED:
                row.deleted_at = None
            row.folder = folder
            view = MessageView.of(row, number)
            line_id = row.line_id
        await self.sync_mwi(line_id)
        return view

    async def delete(self, message_id: int) -> MessageView:
        """Move a message to the Deleted folder (V6); ``restore`` brings it back."""
        return await self._move(message_id, VoicemailFolder.DELETED)

    async def restore(self, message_id: int) -> MessageView:
        """Bring a deleted message back, as heard."""
        return await self._move(message_id, VoicemailFolder.OLD)

    async def mark(self, message_id: int, heard: bool) -> MessageView:
        """Mark a message heard (old) or new again."""
        return await self._move(message_id,
                                VoicemailFolder.OLD if heard else VoicemailFolder.NEW)

    async def purge(self, message_ids: Iterable[int]) -> int:
        """Delete messages for good: rows and events in one transaction, then files."""
        paths: list[Path] = []
        lines: set[int] = set()
        async with self.db.session() as session:
            for message_id in message_ids:
                row = await session.get(VoicemailMessage, message_id)
                if row is None:
                    raise MessageNotFound(f"no voicemail message {message_id}")
                line = await session.get(Line, row.line_id)
                await emit(session, line=line.number if line else "",
                           kind=EventKind.VOICEMAIL_DELETED,
                           data={"message_id": row.id, "purged": True})
                paths.append(Path(row.path))
                lines.add(row.line_id)
                await session.delete(row)
        for path in paths:
            path.unlink(missing_ok=True)
        for line_id in lines:
            await self.sync_mwi(line_id)
        return len(paths)

    async def enforce_retention(self, now: datetime | None = None) -> int:
        """Purge every mailbox's messages past the age or count limit (V7)."""
        vm = self.config.voicemail
        async with self.db.session(read_only=True) as session:
            rows = (await session.execute(select(
                VoicemailMessage.id, VoicemailMessage.line_id, VoicemailMessage.received_at,
                VoicemailMessage.folder))).all()
        by_line: dict[int, list[Kept]] = {}
        for message_id, line_id, received_at, folder in rows:
            by_line.setdefault(line_id, []).append(
                Kept(message_id, received_at, folder is VoicemailFolder.DELETED))
        when = now or utcnow()
        gone: set[int] = set()
        for kept in by_line.values():
            gone |= expired(kept, when, timedelta(days=vm.retention_days), vm.max_messages)
        return await self.purge(sorted(gone)) if gone else 0
