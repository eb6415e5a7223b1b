"""Message deposit against the real lab: the ATA calls a voicemail line (V1, V2).

The ATA records what it hears with MixMonitor and plays the "message"; the
greeting is found in its recording by its energy envelope (10 ms frames).
"""

from __future__ import annotations

import array
import asyncio
import math
import os
import wave
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from faxcore.cli import main
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode, VoicemailFolder
from faxcore.lab.lab import Lab
from faxcore.lab.state import lab_pbx_config
from faxcore.lab.stations import Ata
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.voicemail.store import MessageView, VoicemailStore
from tests.calls.test_serve_lab import entries, serve_process, serving, wait_for
from tests.lab_fixtures import LAB_LINE

pytestmark = [pytest.mark.lab, pytest.mark.slow]

RATE = 8000
FRAME = 80  # 10 ms
CALLER = "0612345678"
PATTERN = "1011001110001011110010100110"  # 100 ms bursts: the personal greeting


def write_wav(path: Path, samples: list[int]) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(array.array("h", samples).tobytes())
    return path


def tone(seconds: float, freq: float = 440.0) -> list[int]:
    return [int(8000 * math.sin(2 * math.pi * freq * i / RATE))
            for i in range(int(seconds * RATE))]


def envelope(path: Path) -> list[float]:
    """RMS per 10 ms frame."""
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == RATE and wav.getsampwidth() == 2
        data = array.array("h", wav.readframes(wav.getnframes()))
        channels = wav.getnchannels()
    mono = data[::channels]
    return [math.sqrt(sum(s * s for s in mono[i:i + FRAME]) / FRAME)
            for i in range(0, len(mono) - FRAME + 1, FRAME)]


def best_correlation(signal: list[float], template: list[float]) -> float:
    """Peak normalised cross-correlation of two envelopes (1.0: same shape)."""
    def centred(xs: list[float]) -> list[float]:
        mean = sum(xs) / len(xs)
        return [x - mean for x in xs]
    t = centred(template)
    t_norm = math.sqrt(sum(x * x for x in t))
    best = 0.0
    for lag in range(len(signal) - len(t) + 1):
        s = centred(signal[lag:lag + len(t)])
        s_norm = math.sqrt(sum(x * x for x in s))
        if s_norm:
            best = max(best, sum(a * b for a, b in zip(s, t, strict=True)) / (s_norm * t_norm))
    return best


def sound_seconds(lab: Lab, name: str, lang: str = "fr") -> float:
    """Length of a core sound (GSM: 33 bytes per 20 ms), following the chroot's symlinks."""
    path = f"/usr/share/asterisk/sounds/{lang}/{name}.gsm"
    host = lab.chroot.host_path(path)
    for _ in range(10):
        parts = Path(path).parts
        for i in range(2, len(parts) + 1):
            prefix = lab.chroot.host_path(str(Path(*parts[:i])))
            if prefix.is_symlink():
                target = os.readlink(prefix)
                inside = target if target.startswith("/") else str(
                    Path(*parts[:i - 1]) / target)
                path = str(Path(inside, *parts[i:]))
                break
        else:
            host = lab.chroot.host_path(path)
            break
    return host.stat().st_size / 33 * 0.02


async def messages(config: FaxcoreConfig, folder: VoicemailFolder | None = None
                   ) -> list[MessageView]:
    async with Database(config.database_url) as db:
        return await VoicemailStore(db, config).list(LAB_LINE, folder)


async def set_mode(config: FaxcoreConfig, mode: LineMode) -> None:
    async with Database(config.database_url) as db:
        await LineService(db).set(LAB_LINE, mode=mode.value)


async def cli(config: FaxcoreConfig, *args: str) -> str:
    """``faxcore ARGS`` (the CLI runs its own event loop: in a thread)."""
    return await asyncio.to_thread(_cli, config, *args)


def _cli(config: FaxcoreConfig, *args: str) -> str:
    vm = config.voicemail
    env = {"FAXCORE_DATA_DIR": str(config.data_dir), "FAXCORE_DATABASE_URL": config.database.url,
           "FAXCORE_VOICEMAIL_MWI_SPOOL_DIR": vm.mwi_spool_dir,
           "FAXCORE_VOICEMAIL_SOUNDS_DIR": vm.sounds_dir}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_caller_hears_greetings_and_leaves_a_5_s_message_with_mwi(
        lab: Lab, lab_database: FaxcoreConfig, tmp_path: Path) -> None:
    await set_mode(lab_database, LineMode.VOICEMAIL)
    try:
        greeting = sound_seconds(lab, "vm-intro")
        beep = sound_seconds(lab, "beep")
        message = write_wav(tmp_path / "message.wav",
                            [0] * int((greeting + beep + 0.3) * RATE) + tone(5.0))
        heard = tmp_path / "heard.wav"
        ata_log = lab.chroot.host_path("/var/log/faxcore-lab/ata/messages.log")
        await lab.ata.rx("pjsip set logger on")
        try:
            async with serving(lab_database) as served:
                await _clear(served)
                offset = ata_log.stat().st_size
                before = len(await messages(served))
                outcome = await Ata(served).call(LAB_LINE, play=message, record=heard,
                                                 seconds=0, caller_id=CALLER)
                assert outcome.answered, outcome
                await wait_for(lambda: _more(served, before), 30, "the message to be stored")
                await wait_for(lambda: _mwi(ata_log, offset, "yes"), 15, "MWI on at the ATA")
                kept = (await messages(served))[before]
                assert kept.folder is VoicemailFolder.NEW
                await cli(served, "vm", "delete", str(kept.id))
                assert [m.id for m in await messages(served, VoicemailFolder.DELETED)] == [
                    kept.id]
                await cli(served, "vm", "restore", str(kept.id))
                await _personal_greeting_heard(served, tmp_path)
        finally:
            await lab.ata.rx("pjsip set logger off")
        kept = (await messages(served))[before]
        assert 4.0 <= kept.duration_s <= 6.0, kept
        assert kept.caller == CALLER and kept.folder is VoicemailFolder.OLD  # restored
        assert Path(kept.path).stat().st_size == kept.size
        env = envelope(heard)
        loud = [i for i, rms in enumerate(env[:int((greeting + 1) * 100)]) if rms > 200]
        assert loud, "the greeting was silent"
        heard_for = (loud[-1] - loud[0]) / 100
        assert greeting - 1.0 <= heard_for <= greeting + beep + 0.6, (heard_for, greeting)
        listed = await cli(lab_database, "vm", "list", "--line", LAB_LINE, "--json")
        assert f'"id": {kept.id}' in listed
    finally:
        await set_mode(lab_database, LineMode.FAX)


async def _mwi(log: Path, offset: int, state: str) -> bool:
    """The ATA's SIP log shows a message-summary NOTIFY saying ``state`` since ``offset``."""
    with log.open("rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    return f"Messages-Waiting: {state}" in text


async def _clear(config: FaxcoreConfig) -> None:
    """Earlier tests' messages purged, so the line starts with MWI off.

    Through the lab's configuration, as serve runs it: the MWI markers follow.
    """
    async with Database(config.database_url) as db:
        store = VoicemailStore(db, lab_pbx_config(config))
        await store.purge([m.id for m in await store.list(LAB_LINE)])


async def _more(config: FaxcoreConfig, before: int) -> bool:
    return len(await messages(config)) > before


async def _personal_greeting_heard(served: FaxcoreConfig, tmp_path: Path) -> None:
    """The personal greeting uploaded through the CLI is what the next caller hears."""
    samples: list[int] = []
    for bit in PATTERN:
        samples += tone(0.1, 660.0) if bit == "1" else [0] * 800
    personal = write_wav(tmp_path / "personal.wav", samples)
    await cli(served, "vm", "greeting", "set", "--line", LAB_LINE, "--kind", "personal",
              str(personal))
    await cli(served, "vm", "greeting", "use", "--line", LAB_LINE, "personal")
    try:
        heard = tmp_path / "heard-personal.wav"
        outcome = await Ata(served).call(LAB_LINE, record=heard, seconds=5)
        assert outcome.answered, outcome
    finally:
        await cli(served, "vm", "greeting", "use", "--line", LAB_LINE, "system")
    assert best_correlation(envelope(heard), envelope(personal)) > 0.8


# What a hostile ATA presents: commas (media URIs in envelope playback),
# control characters, and far more than the 64-character columns.
HOSTILE_CALLER = "0612,sound:tt-monkeys,\x1b[2J" + "34" * 60


async def test_a_hostile_caller_id_leaves_a_normal_message_with_a_cleaned_caller(
        lab: Lab, lab_config: FaxcoreConfig, tmp_path: Path) -> None:
    await set_mode(lab_config, LineMode.VOICEMAIL)
    try:
        wait = sound_seconds(lab, "vm-intro") + sound_seconds(lab, "beep") + 0.3
        message = write_wav(tmp_path / "message.wav", [0] * int(wait * RATE) + tone(3.0))
        async with serving(lab_config) as served:
            await _clear(served)
            before = len(await messages(served))
            outcome = await Ata(served).call(LAB_LINE, play=message, seconds=0,
                                             caller_id=HOSTILE_CALLER)
            assert outcome.answered, outcome
            await wait_for(lambda: _more(served, before), 30, "the message to be stored")
            kept = (await messages(served))[before]
            logged = (await entries(served))[-1]
    finally:
        await set_mode(lab_config, LineMode.FAX)
    assert kept.caller == "06122343434343434343", kept  # its digits only, at most 20
    assert logged.caller == kept.caller
    assert 2.0 <= kept.duration_s <= 4.5, kept
def _stored_recordings(lab: Lab) -> list[str]:
    """faxcore's recordings Asterisk keeps in its spool (ARI stored recordings)."""
    folder = lab.chroot.host_path(f"{lab.pbx.spool}/recording")
    return sorted(p.name for p in folder.glob("faxcore-*"))


async def test_a_message_recorded_while_faxcore_is_killed_is_kept_at_restart(
        lab: Lab, lab_config: FaxcoreConfig, tmp_path: Path) -> None:
    """SIGKILL mid-message: Asterisk finishes the recording, the next start keeps it (11.11)."""
    await set_mode(lab_config, LineMode.VOICEMAIL)
    try:
        greeting = sound_seconds(lab, "vm-intro")
        beep = sound_seconds(lab, "beep")
        message = write_wav(tmp_path / "message.wav",
                            [0] * int((greeting + beep + 0.3) * RATE) + tone(6.0))
        async with serve_process(lab_config) as proc:
            await _clear(lab_config)  # after start-up took any earlier leftover
            calling = asyncio.create_task(Ata(lab_config).call(
                LAB_LINE, play=message, seconds=0, caller_id=CALLER))

            async def recording() -> bool:
                return bool(_stored_recordings(lab)) or calling.done()
            await wait_for(recording, 30, "Asterisk to record the message")
            await asyncio.sleep(2.0)
            proc.kill()  # SIGKILL while the caller speaks
            proc.wait()
            outcome = await calling
        assert outcome.answered, outcome
        assert await messages(lab_config) == []  # nothing was kept by the killed process
        left = _stored_recordings(lab)
        assert len(left) == 1 and left[0].startswith("faxcore-msg-"), left
        async with serving(lab_config):
            pass  # start-up reconciles before taking calls
        [kept] = await messages(lab_config)
        assert kept.caller == CALLER and kept.folder is VoicemailFolder.NEW
        assert 4.0 <= kept.duration_s <= 7.0, kept
        assert _stored_recordings(lab) == []
    finally:
        await set_mode(lab_config, LineMode.FAX)


async def test_star_in_the_greeting_makes_the_message_urgent_then_a_full_mailbox_keeps_none(
        lab: Lab, lab_database: FaxcoreConfig, tmp_path: Path) -> None:
    """V1/V7: '*' during the greeting marks the message urgent ('#' skips to the beep);
    with the mailbox then at its limit the next caller hears "mailbox full", no beep."""
    message = write_wav(tmp_path / "message.wav", [0] * (RATE // 2) + tone(3.0))
    full_mailbox = replace(lab_database,
                           voicemail=replace(lab_database.voicemail, max_messages=1))
    heard = tmp_path / "heard.wav"
    await set_mode(lab_database, LineMode.VOICEMAIL)
    try:
        async with serving(full_mailbox) as served:
            await _clear(served)
            outcome = await Ata(served).call(LAB_LINE, dtmf="ww*w#", play=message,
                                             seconds=0, caller_id=CALLER)
            assert outcome.answered, outcome
            await wait_for(lambda: _more(served, 0), 30, "the urgent message to be stored")
            refused = await Ata(served).call(LAB_LINE, record=heard, seconds=15,
                                             caller_id=CALLER)
            after = await messages(served)
    finally:
        await set_mode(lab_database, LineMode.FAX)
    [kept] = after
    assert kept.urgent and kept.folder is VoicemailFolder.NEW, kept
    assert 2.0 <= kept.duration_s <= 4.5, kept
    # faxcore hung up once the prompt was played, long before the ATA's 15 s.
    assert refused.answered and refused.duration is not None and refused.duration < 10, refused
    # The caller heard the "mailbox full" prompt and was hung up on: no greeting, no beep.
    env = envelope(heard)
    loud = [i for i, rms in enumerate(env) if rms > 200]
    assert loud, "the mailbox-full prompt was silent"
    full_prompt = sound_seconds(lab, "vm-mailboxfull")
    assert (loud[-1] - loud[0]) / 100 <= full_prompt + 0.6, (loud[-1] - loud[0], full_prompt)
