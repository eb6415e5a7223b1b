"""The sans-I/O retry policy and the failure table (S4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from faxcore.send import Failure, Local, RetryPolicy, Source
from faxcore.send.failures import LOCAL, Q850, Q850_NAMES, T30, markdown
from faxcore.spandsp.t30 import T30Error

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DOC = Path(__file__).resolve().parents[2] / "docs" / "failures.md"


def test_busy_is_retried_with_doubling_delay_capped() -> None:
    policy = RetryPolicy(max_attempts=5, initial=60, maximum=200)
    busy = Failure(Source.Q850, 17)
    delays = [policy.decide(busy, n, NOW).retry_at for n in (1, 2, 3, 4)]
    assert delays == [NOW + timedelta(seconds=s) for s in (60, 120, 200, 200)]


def test_last_attempt_is_final_with_reason() -> None:
    decision = RetryPolicy(max_attempts=3).decide(Failure(Source.Q850, 19), 3, NOW)
    assert decision.final
    assert "Nobody answered" in decision.reason and "after 3 attempts" in decision.reason


@pytest.mark.parametrize("failure", [
    Failure(Source.Q850, 1), Failure(Source.Q850, 21), Failure(Source.Q850, 28),
    Failure(Source.T30, T30Error.INCOMPATIBLE), Failure(Source.T30, T30Error.BADTIFF),
    Failure(Source.LOCAL, Local.NO_ROUTE),
])
def test_permanent_failures_are_final_at_first_attempt(failure: Failure) -> None:
    assert RetryPolicy().decide(failure, 1, NOW).final


@pytest.mark.parametrize("failure", [
    Failure(Source.Q850, 17), Failure(Source.Q850, 18), Failure(Source.Q850, 41),
    Failure(Source.T30, T30Error.T1_EXPIRED), Failure(Source.T30, T30Error.CALLDROPPED),
    Failure(Source.T30, T30Error.TX_PHBDEAD), Failure(Source.LOCAL, Local.INTERRUPTED),
    Failure(Source.Q850, 99),
])
def test_transient_failures_are_retried(failure: Failure) -> None:
    assert RetryPolicy().decide(failure, 1, NOW).retry_at == NOW + timedelta(seconds=300)


def test_per_job_limit_overrides_the_default() -> None:
    assert RetryPolicy(max_attempts=3).decide(Failure(Source.Q850, 17), 3, NOW, 5).retry_at


def test_every_q850_rule_has_a_name() -> None:
    assert set(Q850_NAMES) == set(Q850)


def test_every_t30_error_has_a_rule() -> None:
    assert set(T30) == {int(c) for c in T30Error} - {0}


def test_doc_table_equals_the_code() -> None:
    doc = DOC.read_text()
    table = "\n".join(line for line in doc.splitlines() if line.startswith("|")) + "\n"
    assert table == markdown()
    rows = re.findall(r"^\| (q850|t30|local) \| (\d+) \|", doc, re.M)
    assert len(rows) == len(Q850) + len(T30) + len(LOCAL)


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
