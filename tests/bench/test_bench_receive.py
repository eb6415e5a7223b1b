"""``faxcore bench receive`` runs against the lab and reports a parseable RESULT line."""

from __future__ import annotations

import pytest

from faxcore.bench.receive import ReceiveBenchResult, parse_receive_result, run_receive_bench
from faxcore.config import FaxcoreConfig
from faxcore.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]


async def test_two_simultaneous_faxes_are_received_and_faxcore_cpu_is_measured(
        lab: Lab, lab_config: FaxcoreConfig) -> None:
    result = await run_receive_bench(lab_config, 2)
    assert result.succeeded == 2, result
    assert 0 < result.cpu_seconds < result.wall_seconds * 2  # a real, bounded measurement
    figures = parse_receive_result(result.result_line())
    assert figures["calls"] == 2 and figures["succeeded"] == 2
    assert figures["faxcore_cpu_per_call_pct"] == pytest.approx(result.cpu_per_call_pct,
                                                                abs=0.001)


def test_the_result_line_is_cpu_over_wall_per_call() -> None:
    result = ReceiveBenchResult(calls=4, succeeded=3, wall_seconds=20.0, cpu_seconds=0.4)
    assert result.result_line() == "RESULT calls=4 succeeded=3 faxcore_cpu_per_call_pct=0.500"
