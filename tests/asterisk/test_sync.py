"""sync_asterisk without a running Asterisk: where it writes and how it warns."""

from __future__ import annotations

import socket
from pathlib import Path

from faxcore.asterisk.sync import configured_target, sync_asterisk
from faxcore.config import FaxcoreConfig
from faxcore.lines.service import LineService
from faxcore.storage.db import Database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_without_target_nothing_is_written_and_it_says_so(
    config: FaxcoreConfig, database: Database
) -> None:
    result = await sync_asterisk(database, configured_target(config))
    assert result.config_dir == "" and result.written == []
    assert "nothing written" in result.warnings[0]


async def test_writes_lines_and_warns_when_asterisk_unreachable(
    config: FaxcoreConfig, database: Database, tmp_path: Path
) -> None:
    await LineService(database).add("+33972101234", "Secret-123")
    config.asterisk.config_dir = str(tmp_path / "ast")
    config.asterisk.ari_url = f"http://127.0.0.1:{free_port()}"
    result = await sync_asterisk(database, configured_target(config))
    assert result.lines == 1
    assert "pjsip.conf" in result.written and "extensions.conf" in result.written
    assert "[33972101234]" in (tmp_path / "ast" / "pjsip.conf").read_text()
    assert result.reloaded == []
    assert "not reachable" in result.warnings[0]
    again = await sync_asterisk(database, configured_target(config))
    assert again.written == [] and again.warnings == []
