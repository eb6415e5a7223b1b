"""Message deposit (V1, V2): the ARI adapter for calls to answering-machine lines.

Greeting, beep, then an ARI live recording on the caller's channel; Asterisk
ends it on ``#``, on silence, at the maximum length or when the caller hangs
up (the file is kept then); ``faxcore.voicemail.recording`` takes the file
from Asterisk into faxcore's own storage. ``*`` at any time marks the
message urgent; ``#`` during the greeting skips to the beep.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from pathlib import Path

from faxcore.ari.client import AriClient
from faxcore.ari.errors import AriError, AriNotFound
from faxcore.ari.events import (
    ChannelDtmfReceived,
    PlaybackFinished,
)
from faxcore.calls.handlers import Call, Handler, PreparesAnswer
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineInfo
from faxcore.errors import FaxcoreError
from faxcore.fax.detect import watch_for_fax
from faxcore.media.server import AudioSocketServer
from faxcore.voicemail.audio import trim_trailing_silence, wav_duration_ms
from faxcore.voicemail.greetings import Media, greeting_plan
from faxcore.voicemail.recording import (
    END_KEY,
    MESSAGE_PREFIX,
    OTHER_PREFIX,
    message_recording_name,
    parse_message_recording,
    record_caller,
)
from faxcore.voicemail.store import VoicemailStore, publish_sound

log = logging.getLogger(__name__)

URGENT_KEY = "*"
SKIP_KEY = END_KEY


class Deposit:
    """The ``LineMode.VOICEMAIL`` call handler."""

    def __init__(self, store: VoicemailStore, config: FaxcoreConfig,
                 media: AudioSocketServer, fax_handler: Handler) -> None:
        self.store = store
        self.config = config
        self.media = media
        self.fax_handler = fax_handler

    async def before_answer(self, call: Call, line: LineInfo) -> None:
        """Prepare the channel as the fax line does, for a fax heard later (R6).

        The fax handler turns Asterisk's T.38 gateway on: it stays idle while
        the greeting plays, and meets a T.38 sender in T.38 once faxcore
        answers the fax.
        """
        if isinstance(self.fax_handler, PreparesAnswer):
            await self.fax_handler.before_answer(call, line)

    async def __call__(self, call: Call, line: LineInfo) -> None:
        vm = self.config.voicemail
        usage = await self.store.usage(line.id)
        if self.store.quota.is_full(usage):
            log.info("mailbox %s full (%d messages, %d bytes): no recording", line.number,
                     usage.messages, usage.bytes)
            await self._play(call, "sound:vm-mailboxfull", line.language)
            return
        urgent = False
        recorded = None
        # Fax tones are listened for during the greeting and the recording: a
        # calling fax keeps sending CNG after the beep, and the detector may
        # only be ready after a short greeting on a loaded host.
        async with watch_for_fax(call.ari, self.media, call.id) as fax_heard:
            for uri in await self._greeting_uris(line):
                digits = await self._play(call, uri, line.language, stop_on=SKIP_KEY,
                                          fax_heard=fax_heard)
                urgent = urgent or URGENT_KEY in digits
                if call.gone.is_set() or SKIP_KEY in digits or fax_heard.is_set():
                    break
            if not call.gone.is_set() and not fax_heard.is_set():
                recorded = await record_caller(
                    call, max_seconds=vm.max_message_seconds,
                    silence_seconds=vm.silence_seconds, until=fax_heard,
                    name=message_recording_name(line.id, call.channel.caller.number))
        if fax_heard.is_set() and not call.gone.is_set():
            # R6: a calling fax is received like on a fax line (no message kept).
            log.info("call %s on %s: fax tones heard, receiving a fax", call.id, line.number)
            await self.fax_handler(call, line)
            return
        if recorded is not None:
            await self._keep(call, line, recorded.audio,
                             urgent or URGENT_KEY in recorded.digits)

    async def _greeting_uris(self, line: LineInfo) -> list[str]:
        greeting, override, recorded = await self.store.settings(line.id)
        if not self.config.voicemail.sounds_dir:
            recorded = {}  # Asterisk could not read them: system greetings only
        plan = greeting_plan(line.number, greeting, override, recorded)
        return [await asyncio.to_thread(self._uri, item, recorded, line.number)
                for item in plan]

    def _uri(self, item: Media, recorded: dict[str, Path], number: str) -> str:
        """An ARI media URI; recorded greetings are published where Asterisk reads."""
        kind, value = item
        if kind != "greeting":
            return f"{kind}:{value}"
        vm = self.config.voicemail
        source = recorded[value]
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
        stem = f"{number.lstrip('+')}-{value}-{digest}"
        target = Path(vm.sounds_dir) / f"{stem}.wav"
        if not target.exists():
            publish_sound(source, target)
        return f"sound:{vm.sounds_dir_in_asterisk or vm.sounds_dir}/{stem}"

    async def _play(self, call: Call, uri: str, lang: str, stop_on: str = "",
                    fax_heard: asyncio.Event | None = None) -> str:
        """Play one media to its end (or a ``stop_on`` key, or fax tones); returns the digits."""
        playback_id = f"faxcore-pb-{uuid.uuid4().hex}"
        try:
            await call.ari.play(call.id, uri, playback_id=playback_id, lang=lang)
        except AriNotFound:
            if call.gone.is_set():
                return ""
            raise
        digits = ""
        while True:
            event = await call.next_event(fax_heard)
            if event is None:  # gone, or fax tones heard: the greeting stops at once
                if not call.gone.is_set():
                    with contextlib.suppress(AriError):
                        await call.ari.stop_playback(playback_id)
                return digits
            if isinstance(event, PlaybackFinished) and event.playback.id == playback_id:
                return digits
            if isinstance(event, ChannelDtmfReceived):
                digits += event.digit
                if event.digit and event.digit in stop_on:
                    with contextlib.suppress(AriNotFound):  # it may have just finished
                        await call.ari.stop_playback(playback_id)
                    return digits

    async def _keep(self, call: Call, line: LineInfo, audio: bytes, urgent: bool) -> None:
        await keep_message(self.store, self.config, line.id, call.channel.caller.number,
                           audio, urgent=urgent, origin=f"call {call.id}")


async def keep_message(store: VoicemailStore, config: FaxcoreConfig, line_id: int,
                       caller: str, audio: bytes, *, urgent: bool, origin: str) -> bool:
    """Keep the message if long enough (V2: shorter ones are dropped); ``True`` if kept."""
    if not audio:
        return False
    min_ms = config.voicemail.min_message_ms
    if wav_duration_ms(audio) < min_ms:
        log.info("%s: message under %d ms from %r dropped", origin, min_ms, caller)
        return False
    message = await store.save_message(line_id, caller, audio, urgent=urgent)
    log.info("voicemail %d (line id %d) from %r: %.1f s%s, %s", message.id, line_id,
             caller, message.duration_s, " urgent" if urgent else "", origin)
    return True


async def recover_recordings(ari: AriClient, store: VoicemailStore,
                             config: FaxcoreConfig) -> int:
    """At start: messages Asterisk recorded while faxcore died are kept, leftovers deleted.

    A SIGKILL between the recording's end and ``save_message`` leaves only
    Asterisk's stored recording; its name carries the line and the caller
    (``message_recording_name``). A usable one becomes a message (not
    urgent: that key press is lost); any other ``faxcore-`` recording
    (greetings by phone, too short, unknown line) is deleted. Assumes one
    ``faxcore serve`` per Asterisk: recordings of live calls would be taken.
    Returns how many messages were kept.
    """
    kept = 0
    for name in await ari.stored_recordings():
        if not name.startswith((MESSAGE_PREFIX, OTHER_PREFIX)):
            continue
        parsed = parse_message_recording(name)
        try:
            if parsed is not None:
                audio = await asyncio.to_thread(
                    trim_trailing_silence, await ari.stored_recording_file(name))
                line_id, caller = parsed
                kept += await keep_message(store, config, line_id, caller, audio,
                                           urgent=False, origin=f"recording {name} recovered")
            await ari.delete_stored_recording(name)
        except FaxcoreError as exc:
            log.error("recording %s left by a stop could not be recovered: %s", name, exc)
            continue
        log.info("recording %s left by a stop: %s", name,
                 "recovered" if parsed is not None else "deleted")
    return kept


def voicemail_handler(store: VoicemailStore, config: FaxcoreConfig, media: AudioSocketServer,
                      fax_handler: Handler) -> Handler:
    """The handler ``faxcore serve`` registers for ``LineMode.VOICEMAIL``."""
    return Deposit(store, config, media, fax_handler)
