"""The reconnect backoff policy (sans I/O: time is passed in)."""

from __future__ import annotations

import random

import pytest

from faxcore.ari.backoff import Backoff


def test_delays_grow_exponentially_within_jitter_and_stop_at_the_maximum() -> None:
    policy = Backoff(initial=0.5, maximum=4.0, rng=random.Random(7))
    delays = [policy.failed(now=float(i)) for i in range(7)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling


def test_jitter_spreads_delays() -> None:
    delays = {Backoff(rng=random.Random(seed)).failed(0.0) for seed in range(20)}
    assert len(delays) == 20


def test_a_stable_connection_resets_the_backoff() -> None:
    policy = Backoff(initial=1.0, maximum=60.0, stable_after=5.0, rng=random.Random(1))
    for i in range(5):
        policy.failed(float(i))
    assert policy.attempts == 5
    policy.connected(now=100.0)
    assert policy.failed(now=106.0) <= 1.0  # was up 6 s: back to the initial delay


def test_a_connection_dropping_at_once_keeps_backing_off() -> None:
    policy = Backoff(initial=1.0, maximum=60.0, stable_after=5.0, rng=random.Random(1))
    for i in range(3):
        policy.failed(float(i))
    policy.connected(now=10.0)
    assert policy.failed(now=10.5) >= 4.0  # 4th attempt: ceiling 8


@pytest.mark.parametrize("kwargs", [{"initial": 0}, {"initial": 5, "maximum": 1},
                                    {"multiplier": 0.5}])
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid backoff"):
        Backoff(**kwargs)  # type: ignore[arg-type]
