"""Dial-in retrieval (V3, V4, V10): the ARI adapter around ``VoicemailMenu``.

It only carries the menu's actions out (ARI playbacks, the login check, the
message moves, the PIN change) and feeds back what the channel reports
(keys, playbacks ended) and the time. Message audio lives in faxcore's data
folder, which Asterisk may not see: each message played is published as a
copy into ``voicemail.sounds_dir`` for the call and removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from faxcore.ari.errors import AriNotFound
from faxcore.ari.events import (
    ChannelDtmfReceived,
    PlaybackFinished,
)
from faxcore.calls.handlers import Call
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode, VoicemailFolder
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.models import Line, VoicemailBox
from faxcore.voicemail.audio import wav_duration_ms
from faxcore.voicemail.login import MailboxLogin
from faxcore.voicemail.menu import (
    Action,
    ChangePin,
    Envelope,
    Hangup,
    Login,
    Media,
    MenuOptions,
    MessageInfo,
    MoveMessage,
    Play,
    RecordGreeting,
    StopPlayback,
    VoicemailMenu,
)
from faxcore.voicemail.recording import record_caller
from faxcore.voicemail.store import VoicemailStore, publish_sound

log = logging.getLogger(__name__)

GREETING_MAX_SECONDS = 60
COPY_PREFIX = "msg-"  # a message published in sounds_dir for one dial-in call
COPY_LEFTOVER_SECONDS = 24 * 3600  # far longer than any call


class _Session:
    """One retrieval call: the menu, its playbacks and the files published for it."""

    def __init__(self, owner: Retrieval, call: Call, menu: VoicemailMenu) -> None:
        self.owner = owner
        self.call = call
        self.menu = menu
        self.language = "fr"
        self.number = ""
        self.playbacks: dict[str, int] = {}  # ARI playback id -> menu seq
        self.published: list[Path] = []
        self.own_line = ""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def run(self) -> None:
        actions = self.menu.start(self.now())
        while True:
            follow: list[Action] = []
            for action in actions:
                if isinstance(action, Hangup):
                    return
                follow += await self._carry_out(action)
            if follow:
                actions = follow
                continue
            deadline = self.menu.get_timer()
            timeout = None if deadline is None else max(0.0, deadline - self.now())
            try:
                async with asyncio.timeout(timeout):
                    event = await self.call.next_event()
            except TimeoutError:
                actions = self.menu.handle_timer(self.now())
                continue
            if event is None:
                return
            if isinstance(event, ChannelDtmfReceived) and event.digit:
                actions = self.menu.digit(event.digit, self.now())
            elif isinstance(event, PlaybackFinished) and event.playback.id in self.playbacks:
                failed = event.playback.state == "failed"
                if failed:
                    log.warning("call %s: Asterisk could not play %s", self.call.id,
                                event.playback.media_uri)
                actions = self.menu.playback_done(self.playbacks.pop(event.playback.id),
                                                  self.now(), failed=failed)
            else:
                actions = []

    async def _carry_out(self, action: Action) -> list[Action]:
        """Do one action; a login answer comes back as the menu's next actions."""
        owner = self.owner
        if isinstance(action, Play):
            uris = [await self._uri(item) for item in action.media]
            playback_id = f"faxcore-vm-{uuid.uuid4().hex}"
            self.playbacks[playback_id] = action.seq
            await self.call.ari.play(self.call.id, ",".join(uris), playback_id=playback_id,
                                     lang=self.language)
        elif isinstance(action, StopPlayback):
            for playback_id, seq in list(self.playbacks.items()):
                if seq == action.seq:
                    del self.playbacks[playback_id]
                    with contextlib.suppress(AriNotFound):  # it may have just ended
                        await self.call.ari.stop_playback(playback_id)
        elif isinstance(action, Login):
            return await self._login(action)
        elif isinstance(action, MoveMessage):
            if action.folder == "deleted":
                await owner.store.delete(action.message_id)
            else:
                await owner.store.mark(action.message_id, heard=action.folder == "old")
        elif isinstance(action, ChangePin):
            await LineService(owner.db).set(self.number, pin=action.pin)
            log.info("PIN of %s changed by phone", self.number)
        elif isinstance(action, RecordGreeting):
            return await self._record_greeting(action.kind)
        return []

    async def _record_greeting(self, kind: str) -> list[Action]:
        """Record the caller and make it the mailbox's ``kind`` greeting (V1 by phone)."""
        vm = self.owner.config.voicemail
        recorded = await record_caller(self.call, max_seconds=GREETING_MAX_SECONDS,
                                       silence_seconds=vm.silence_seconds)
        if recorded.hung_up:
            return [Hangup()]
        saved = bool(recorded.audio) and wav_duration_ms(recorded.audio) >= vm.min_message_ms
        if saved:
            with tempfile.TemporaryDirectory() as work:
                source = Path(work) / f"{kind}.wav"
                await asyncio.to_thread(source.write_bytes, recorded.audio)
                await self.owner.store.set_greeting(self.number, kind, source)
            log.info("%s greeting of %s recorded by phone", kind, self.number)
        return self.menu.greeting_recorded(saved, self.now())

    async def _login(self, action: Login) -> list[Action]:
        caller = self.call.channel.caller.number
        mailbox = action.mailbox or ""
        result = await self.owner.login.check(mailbox, action.pin, caller=caller,
                                              own_line=self.own_line or None)
        if not result.ok:
            return self.menu.login_failed(self.now())
        self.number = result.number
        box = await self.owner.box(result.number)
        self.menu.options.autoplay = bool(box and box.autoplay)
        self.menu.options.envelope = box.envelope if box else Envelope.BOTH
        self.language = box.language if box else self.language
        messages = await self.owner.store.list(result.number)
        infos = [MessageInfo(id=m.id, caller=m.caller, received_at=m.received_at.astimezone(),
                             urgent=m.urgent, new=m.folder is VoicemailFolder.NEW,
                             deleted=m.folder is VoicemailFolder.DELETED) for m in messages]
        log.info("mailbox %s opened by phone from %r", result.number, caller)
        return self.menu.logged_in(infos, result.number, self.now())

    async def _uri(self, item: Media) -> str:
        kind, value = item
        if kind != "message":
            return f"{kind}:{value}"
        return await self._publish(int(value))

    async def _publish(self, message_id: int) -> str:
        """A copy of the message where Asterisk reads sounds, removed after the call."""
        vm = self.owner.config.voicemail
        if not vm.sounds_dir:
            log.warning("voicemail.sounds_dir is not set: message %d cannot be played",
                        message_id)
            return "sound:vm-sorry"
        view = await self.owner.store.get(message_id)
        stem = f"{COPY_PREFIX}{self.call.id}-{message_id}"
        target = Path(vm.sounds_dir) / f"{stem}.wav"
        if not target.exists():
            await asyncio.to_thread(publish_sound, Path(view.path), target)
            self.published.append(target)
        return f"sound:{vm.sounds_dir_in_asterisk or vm.sounds_dir}/{stem}"


def sweep_copies(sounds_dir: Path, now: float) -> int:
    """Delete message copies left by dial-in calls that never removed them (faxcore killed).

    A copy lives as long as its call; one older than ``COPY_LEFTOVER_SECONDS``
    belongs to no call. Returns how many went.
    """
    swept = 0
    for path in sounds_dir.glob(f"{COPY_PREFIX}*.wav"):
        with contextlib.suppress(FileNotFoundError):
            if now - path.stat().st_mtime > COPY_LEFTOVER_SECONDS:
                path.unlink()
                swept += 1
    return swept


class Retrieval:
    """The handler of the access number: log in, then the menu."""

    def __init__(self, db: Database, config: FaxcoreConfig) -> None:
        self.db = db
        self.config = config
        self.store = VoicemailStore(db, config)
        self.login = MailboxLogin(db, config)

    async def __call__(self, call: Call) -> None:
        own = await self._own_line(call.from_line)
        menu = VoicemailMenu(mailbox=own.number if own else None,
                             skip_pin=bool(own and own.skip_pin))
        session = _Session(self, call, menu)
        session.own_line = own.number if own else ""
        session.language = own.language if own else self.config.voicemail.access_language
        try:
            await session.run()
        finally:
            for path in session.published:
                path.unlink(missing_ok=True)

    async def box(self, number: str) -> Mailbox | None:
        """A voicemail line's dial-in options."""
        async with self.db.session(read_only=True) as session:
            line = await session.scalar(select(Line).where(
                Line.number == number, Line.mode == LineMode.VOICEMAIL))
            if line is None:
                return None
            box = await session.get(VoicemailBox, line.id)
            return Mailbox(line.number, line.language, bool(box and box.skip_pin),
                           box.autoplay if box else MenuOptions.autoplay,
                           Envelope(box.envelope) if box else Envelope.BOTH)

    async def _own_line(self, number: str) -> Mailbox | None:
        """The voicemail line the call comes from (authenticated by its endpoint), if any."""
        return await self.box(number) if number else None


@dataclass(frozen=True)
class Mailbox:
    """What the menu needs of a mailbox before and after login."""

    number: str
    language: str
    skip_pin: bool
    autoplay: bool
    envelope: Envelope
