"""``faxcore documents convert|to-pdf``: JSON output, one error line, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from faxcore.cli import main


def test_convert_then_to_pdf_report_pages_as_json(tmp_path: Path) -> None:
    text = tmp_path / "memo.txt"
    text.write_text("Hello\fsecond page\n", encoding="utf-8")
    fax, pdf = tmp_path / "memo.tif", tmp_path / "memo.pdf"
    runner = CliRunner()
    result = runner.invoke(main, ["documents", "convert", str(text), "-o", str(fax),
                                  "--quality", "normal", "--header", "ACME", "--tsi", "+331",
                                  "--cover-from", "Alice", "--cover-to", "Bob", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["pages"], doc["y_dpi"], doc["quality"], doc["width"]) == (3, 98, "normal", 1728)
    result = runner.invoke(main, ["documents", "to-pdf", str(fax), str(pdf), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["pages"] == 3


def test_bad_document_gives_one_error_line_and_exit_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = CliRunner().invoke(main, ["documents", "convert", str(empty),
                                       "-o", str(tmp_path / "o.tif")])
    assert result.exit_code == 1
    assert result.output.strip() == "faxcore: error: empty.txt: the document is empty"
