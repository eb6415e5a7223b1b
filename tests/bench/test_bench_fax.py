"""``faxcore bench fax`` in its smallest mode: real gcc, real spandsp, one page."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from faxcore.bench import BenchError
from faxcore.bench.fax import parse_result_line
from faxcore.cli import main


def test_one_page_benchmark_ends_with_a_parsable_result_line() -> None:
    outcome = CliRunner().invoke(main, ["bench", "fax", "--pages", "1", "--repeat", "1"])
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.output.strip().splitlines()
    figures = parse_result_line(lines[-1])
    assert figures["pages"] == 1
    assert figures["binding_vs_c"] > 0.1
    assert figures["python_x_realtime"] > 50
    assert figures["c_x_realtime"] > 50
    assert any(line.startswith("C      :") for line in lines)


def test_json_output_carries_both_runs_and_the_result_line() -> None:
    outcome = CliRunner().invoke(
        main, ["bench", "fax", "--pages", "1", "--repeat", "1", "--no-ecm", "--json"]
    )
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.output)
    assert data["ecm"] is False
    assert data["c"]["pages"] == data["python"]["pages"] == 1
    assert parse_result_line(data["result"])["pages"] == 1


@pytest.mark.parametrize(
    "line",
    [
        "RESULT binding_vs_c=fast python_x_realtime=1 c_x_realtime=1 pages=1",
        "RESULT binding_vs_c=0.900 python_x_realtime=1100 c_x_realtime=1250",
        "binding_vs_c=0.900 python_x_realtime=1100 c_x_realtime=1250 pages=5",
    ],
)
def test_malformed_result_lines_are_rejected(line: str) -> None:
    with pytest.raises(BenchError, match="not a fax benchmark RESULT line"):
        parse_result_line(line)


def test_zero_pages_is_a_one_line_error() -> None:
    outcome = CliRunner().invoke(main, ["bench", "fax", "--pages", "0"])
    assert outcome.exit_code == 1
    assert "pages and repeat must be at least 1" in outcome.output
