"""``faxcore vm``: messages, folders, greetings and dial-in options of a mailbox."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner, Result

from faxcore.cli import main
from faxcore.config import FaxcoreConfig
from faxcore.lines.service import LineService
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from faxcore.voicemail.store import VoicemailStore
from tests.notify.conftest import write_wav

LINE = "+33972100077"


async def _mailbox_with_a_message(config: FaxcoreConfig, audio: bytes) -> int:
    await upgrade(config.database_url)
    async with Database(config.database_url) as db:
        await LineService(db).add(LINE, "Cli-vm-line-42", mode="voicemail", pin="4826")
        store = VoicemailStore(db, config)
        message = await store.save_message(await store.line_id(LINE), "0612345678", audio)
        return message.id


def _runner(config: FaxcoreConfig) -> tuple[CliRunner, dict[str, str]]:
    return CliRunner(), {"FAXCORE_DATA_DIR": str(config.data_dir)}


def _vm(config: FaxcoreConfig, *args: str) -> Result:
    runner, env = _runner(config)
    return runner.invoke(main, ["vm", *args], env=env, catch_exceptions=False)


def test_list_get_delete_restore_purge_a_message(config: FaxcoreConfig, tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "in.wav", 2.0).read_bytes()
    message_id = asyncio.run(_mailbox_with_a_message(config, audio))
    listed = json.loads(_vm(config, "list", "--line", LINE, "--json").output)["messages"]
    assert [(m["id"], m["folder"], m["caller"]) for m in listed] == [
        (message_id, "new", "0612345678")]
    out = tmp_path / "out.wav"
    assert _vm(config, "get", str(message_id), "--out", str(out)).exit_code == 0
    assert out.read_bytes() == audio
    assert _vm(config, "delete", str(message_id)).exit_code == 0
    deleted = _vm(config, "list", "--line", LINE, "--folder", "deleted", "--json").output
    assert [m["id"] for m in json.loads(deleted)["messages"]] == [message_id]
    assert _vm(config, "restore", str(message_id)).exit_code == 0
    old = json.loads(_vm(config, "list", "--line", LINE, "--folder", "old",
                         "--json").output)["messages"]
    assert [m["id"] for m in old] == [message_id]
    assert _vm(config, "purge", str(message_id)).exit_code == 0
    assert json.loads(_vm(config, "list", "--line", LINE, "--json").output)["messages"] == []


def test_options_show_and_change_what_retrieval_does(config: FaxcoreConfig,
                                                     tmp_path: Path) -> None:
    asyncio.run(_mailbox_with_a_message(config, write_wav(tmp_path / "m.wav", 1.5).read_bytes()))
    shown = json.loads(_vm(config, "options", "--line", LINE, "--json").output)
    assert shown == {"line": LINE, "skip_pin": False, "autoplay": False, "envelope": "both"}
    changed = _vm(config, "options", "--line", LINE, "--skip-pin", "--autoplay",
                  "--envelope", "message")
    assert changed.output.strip() == (
        f"{LINE}: PIN not asked from the line, autoplay on, envelope message")
    shown = json.loads(_vm(config, "options", "--line", LINE, "--json").output)
    assert shown == {"line": LINE, "skip_pin": True, "autoplay": True, "envelope": "message"}


def test_greeting_set_and_use(config: FaxcoreConfig, tmp_path: Path) -> None:
    asyncio.run(_mailbox_with_a_message(config, write_wav(tmp_path / "m.wav", 1.5).read_bytes()))
    greeting = write_wav(tmp_path / "greeting.wav", 3.0, rate=16000)
    stored = json.loads(_vm(config, "greeting", "set", "--line", LINE, "--kind", "personal",
                            str(greeting), "--json").output)
    assert Path(stored["path"]).is_file()
    assert _vm(config, "greeting", "use", "--line", LINE, "personal").exit_code == 0


def test_errors_are_one_clear_line(config: FaxcoreConfig, tmp_path: Path) -> None:
    asyncio.run(_mailbox_with_a_message(config, write_wav(tmp_path / "m.wav", 1.5).read_bytes()))
    missing = _vm(config, "delete", "999")
    assert missing.exit_code == 1
    assert missing.output.strip() == "faxcore: error: no voicemail message 999"
    unknown = _vm(config, "options", "--line", "+33972100078")
    assert unknown.exit_code == 1 and unknown.output.startswith("faxcore: error: no line")
    bad = _vm(config, "options", "--line", LINE, "--envelope", "loud")
    assert bad.exit_code == 2 and "'loud' is not one of" in bad.output
