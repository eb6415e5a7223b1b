"""The suite's own rule for missing real parts: skip on a workstation, fail in CI."""

from __future__ import annotations

import pytest

from tests.conftest import unavailable
from tests.lab_fixtures import _lab_slot


def test_a_missing_real_part_skips_without_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL"):
        unavailable("no PostgreSQL")


def test_a_missing_real_part_fails_the_run_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no PostgreSQL"):
        unavailable("no PostgreSQL")


def test_each_xdist_worker_gets_its_own_lab_slot_after_the_base() -> None:
    assert _lab_slot({}) == 0
    assert _lab_slot({"FAXCORE_TEST_LAB_SLOT": "4"}) == 4
    assert _lab_slot({"FAXCORE_TEST_LAB_SLOT": "4", "PYTEST_XDIST_WORKER": "gw0"}) == 4
    assert _lab_slot({"FAXCORE_TEST_LAB_SLOT": "4", "PYTEST_XDIST_WORKER": "gw3"}) == 7
