"""``faxcore filter add|remove|list``: a line's blacklist, whitelist and anonymous refusal."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from faxcore.cli import main
from faxcore.config import FaxcoreConfig
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from tests.reception.test_store import a_line


async def _line(config: FaxcoreConfig) -> None:
    await upgrade(config.database_url)
    async with Database(config.database_url) as db:
        await a_line(db)


def test_filter_add_list_remove(config: FaxcoreConfig) -> None:
    asyncio.run(_line(config))
    env = {"FAXCORE_DATA_DIR": str(config.data_dir)}
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["filter", *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("add", "--line", "+33 1 23 45 67 89", "--block", "+33 6 12*")
    run("add", "--line", "+33123456789", "--allow", "+33712345678")
    run("add", "--line", "+33123456789", "--anonymous")
    listed = json.loads(run("list", "--line", "+33123456789", "--json"))
    assert listed == {"refuse_anonymous": True, "entries": [
        {"kind": "block", "pattern": "+33612*"}, {"kind": "allow", "pattern": "+33712345678"}]}
    run("remove", "--line", "+33123456789", "--block", "+33612*")
    run("remove", "--line", "+33123456789", "--anonymous")
    text = run("list", "--line", "+33123456789")
    assert "anonymous callers: accepted" in text and "block" not in text


def test_filter_errors_are_one_clear_line(config: FaxcoreConfig) -> None:
    asyncio.run(_line(config))
    env = {"FAXCORE_DATA_DIR": str(config.data_dir)}
    runner = CliRunner()
    bad = runner.invoke(main, ["filter", "add", "--line", "+33123456789", "--block", "abc"],
                        env=env)
    assert bad.exit_code == 1 and "not a number or a prefix" in bad.output
    both = runner.invoke(main, ["filter", "add", "--line", "+33123456789", "--block", "+331",
                                "--anonymous"], env=env)
    assert both.exit_code == 1 and "exactly one of" in both.output
    missing = runner.invoke(main, ["filter", "remove", "--line", "+33123456789", "--allow",
                                   "+331"], env=env)
    assert missing.exit_code == 1 and "has no allow entry" in missing.output
