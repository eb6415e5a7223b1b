"""Line changes made live: saved first, then synced to the Asterisk the surface names."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

from faxcore.asterisk.sync import SyncTarget
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode
from faxcore.lines.provisioning import LineProvisioning
from faxcore.lines.service import LineService
from faxcore.storage.db import Database

NUMBER = "+33972101234"


def _unreachable_ari(config: FaxcoreConfig) -> FaxcoreConfig:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return replace(config, asterisk=replace(config.asterisk, ari_url=f"http://127.0.0.1:{port}"))


async def test_an_added_line_is_written_where_the_target_asterisk_reads(
        config: FaxcoreConfig, database: Database, tmp_path: Path) -> None:
    target = SyncTarget(_unreachable_ari(config), tmp_path / "asterisk")
    change = await LineProvisioning(database, config, target).add(NUMBER, "Secret-123")
    assert change.line.number == NUMBER
    assert change.asterisk.config_dir == str(tmp_path / "asterisk")
    assert "[33972101234]" in (tmp_path / "asterisk" / "pjsip.conf").read_text()
    # The PBX is not running: the files are in place and the reload is a warning.
    assert change.asterisk.reloaded == [] and "not reachable" in change.asterisk.warnings[0]


async def test_a_change_asterisk_cannot_take_is_kept_and_reported(
        config: FaxcoreConfig, database: Database, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the configuration folder should be")
    provisioning = LineProvisioning(database, config, SyncTarget(config, blocked))
    await provisioning.add(NUMBER, "Secret-123")
    change = await provisioning.set(NUMBER, mode="voicemail")
    assert change.asterisk.failed and not change.asterisk.ok
    assert (await LineService(database).get(NUMBER)).mode is LineMode.VOICEMAIL


async def test_without_a_target_the_change_says_nothing_was_written(
        config: FaxcoreConfig, database: Database) -> None:
    provisioning = LineProvisioning(database, config, None)
    await provisioning.add(NUMBER, "Secret-123")
    change = await provisioning.remove(NUMBER)
    assert change.asterisk.config_dir == "" and "nothing written" in change.asterisk.warnings[0]
    assert await LineService(database).list() == []
