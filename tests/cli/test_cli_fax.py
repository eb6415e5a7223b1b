"""``faxcore fax list|show|get``: received faxes and their PDFs from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfReader

from faxcore.cli import main
from faxcore.config import FaxcoreConfig
from faxcore.fax.loopback import write_synthetic_document
from faxcore.reception.store import FaxStore
from faxcore.storage.db import Database
from faxcore.storage.migrate import upgrade
from tests.reception.test_store import a_line, completed


async def _two_faxes(config: FaxcoreConfig) -> tuple[int, int]:
    await upgrade(config.database_url)
    async with Database(config.database_url) as db:
        store = FaxStore(db, config.fax_dir)
        line = await a_line(db)
        good = await store.start(line, caller="0612345678", channel_id="c1",
                                 local_station_id="MY FAX")
        write_synthetic_document(Path(good.tiff_path), 2)
        await store.settle(good.id, completed(True, 2), "t38")
        bad = await store.start(line, caller="", channel_id="c2", local_station_id="MY FAX")
        await store.settle(bad.id, completed(False, 0, 48, "Unexpected DCN"), "audio")
    return good.id, bad.id


def test_list_show_and_get_a_received_fax(config: FaxcoreConfig, tmp_path: Path) -> None:
    good, bad = asyncio.run(_two_faxes(config))
    env = {"FAXCORE_DATA_DIR": str(config.data_dir)}
    runner = CliRunner()
    listed = runner.invoke(main, ["fax", "list", "--line", "+33123456789", "--json"], env=env,
                           catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    faxes = json.loads(listed.output)["faxes"]
    assert [(f["id"], f["state"], f["pages"]) for f in faxes] == [(bad, "failed", 0),
                                                                 (good, "received", 2)]
    shown = runner.invoke(main, ["fax", "show", str(good)], env=env, catch_exceptions=False)
    assert shown.exit_code == 0
    assert "received" in shown.output and "T.38" in shown.output and "REMOTE FAX" in shown.output
    out = tmp_path / "copy.pdf"
    got = runner.invoke(main, ["fax", "get", str(good), "--pdf", str(out)], env=env,
                        catch_exceptions=False)
    assert got.exit_code == 0, got.output
    assert len(PdfReader(out).pages) == 2


def test_get_of_a_fax_without_pages_or_unknown_is_one_error_line(
        config: FaxcoreConfig, tmp_path: Path) -> None:
    _, bad = asyncio.run(_two_faxes(config))
    env = {"FAXCORE_DATA_DIR": str(config.data_dir)}
    runner = CliRunner()
    no_pdf = runner.invoke(main, ["fax", "get", str(bad), "--pdf", str(tmp_path / "x.pdf")],
                           env=env)
    assert no_pdf.exit_code == 1
    assert no_pdf.output.strip() == f"faxcore: error: fax {bad} has no PDF (failed, 0 pages)"
    unknown = runner.invoke(main, ["fax", "show", "999"], env=env)
    assert unknown.exit_code == 1 and "no received fax 999" in unknown.output
