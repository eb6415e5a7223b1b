"""``faxcore calls list`` shows the call log of one line or of all, newest first."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from faxcore.calls.calllog import CallLog
from faxcore.cli import main
from faxcore.config import FaxcoreConfig
from faxcore.domain import CallDisposition
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from tests.calls.test_calllog import add_line


async def _log_calls(config: FaxcoreConfig) -> None:
    await upgrade(config.database_url)
    async with Database(config.database_url) as db:
        fax = await add_line(db, "+33123456789")
        other = await add_line(db, "+33987654321")
        log = CallLog(db)
        start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        await log.open_call(channel_id="c1", caller="0612345678", called=fax.number,
                            disposition=CallDisposition.ANSWERED, line_id=fax.id,
                            started_at=start)
        await log.close_call("c1", cause=16, ended_at=start + timedelta(seconds=42))
        await log.open_call(channel_id="c2", caller="", called=other.number,
                            disposition=CallDisposition.ANSWERED, line_id=other.id)
        await log.open_call(channel_id="c3", caller="0700000000", called="+33111111111",
                            disposition=CallDisposition.REJECTED_UNKNOWN_LINE, cause=1,
                            detail="unallocated number", ended=True)


def test_calls_list_shows_newest_first_and_filters_by_line(config: FaxcoreConfig) -> None:
    asyncio.run(_log_calls(config))
    env = {"FAXCORE_DATA_DIR": str(config.data_dir)}
    runner = CliRunner()
    everything = runner.invoke(main, ["calls", "list", "--json"], env=env,
                               catch_exceptions=False)
    assert everything.exit_code == 0, everything.output
    calls = json.loads(everything.output)["calls"]
    assert [c["caller"] for c in calls] == ["0700000000", "", "0612345678"]
    assert calls[0]["line"] is None and calls[0]["disposition"] == "rejected_unknown_line"

    one_line = runner.invoke(main, ["calls", "list", "--line", "+33123456789"], env=env,
                             catch_exceptions=False)
    assert one_line.exit_code == 0, one_line.output
    lines = one_line.output.splitlines()
    assert len(lines) == 1
    assert "0612345678" in lines[0] and "answered" in lines[0]
    assert "42s" in lines[0] and "cause 16" in lines[0]


def test_calls_list_on_an_empty_log_says_so(config: FaxcoreConfig) -> None:
    result = CliRunner().invoke(main, ["calls", "list"],
                                env={"FAXCORE_DATA_DIR": str(config.data_dir)},
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output.strip() == "no calls"
