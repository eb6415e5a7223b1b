"""``faxcore bench documents`` runs in a tiny mode and ends with a RESULT line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from faxcore.bench import BenchError
from faxcore.bench.documents import command, parse_result_line


def test_tiny_benchmark_prints_a_well_formed_result_line() -> None:
    result = CliRunner().invoke(command, ["--pages", "2", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    figures = parse_result_line(last)
    assert figures["pages"] == 2
    assert figures["faxcore_pages_per_s"] > 0 and figures["gs_pages_per_s"] > 0
    ratio = figures["faxcore_pages_per_s"] / figures["gs_pages_per_s"]
    assert figures["documents_vs_gs"] == pytest.approx(ratio, rel=0.02)


def test_result_parser_refuses_other_lines() -> None:
    with pytest.raises(BenchError):
        parse_result_line("RESULT binding_vs_c=1.0")
