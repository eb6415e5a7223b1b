"""The route rules of issue 13 item 4, without I/O: which failure falls back to what."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from faxcore.documents import Quality
from faxcore.fax.options import Direction, FaxSessionOptions, Resolution, SessionWire
from faxcore.send.failures import Failure, Source
from faxcore.send.routes import (
    DEFAULT_ROUTE,
    AttemptFacts,
    Route,
    Wire,
    fall_back,
    learned,
    rendition_path,
)
from faxcore.spandsp import T30Error

REFUSED = Failure(Source.T30, T30Error.NORESSUPPORT)
NO_DCS_ANSWER = Failure(Source.T30, T30Error.TX_PHBDEAD)


def _facts(failure: Failure | None, transport: str = "t38", pages: int = 0,
           resolution: Resolution = Resolution.SUPERFINE, **more: object) -> AttemptFacts:
    return AttemptFacts(failure, pages, transport, resolution, **more)  # type: ignore[arg-type]


@pytest.mark.parametrize(("sent_at", "next_at"), [
    (Resolution.SUPERFINE, Resolution.FINE), (Resolution.FINE, Resolution.STANDARD)])
def test_a_refused_resolution_steps_down_one_at_a_time(
        sent_at: Resolution, next_at: Resolution) -> None:
    fallback = fall_back(DEFAULT_ROUTE, _facts(REFUSED, resolution=sent_at))
    assert fallback is not None
    assert fallback.route == replace(DEFAULT_ROUTE, max_resolution=next_at)
    assert fallback.why == (f"the receiving machine does not accept {sent_at.value} "
                            f"resolution: sending at {next_at.value}")


def test_standard_refused_has_nothing_coarser_to_try() -> None:
    assert fall_back(DEFAULT_ROUTE, _facts(REFUSED, resolution=Resolution.STANDARD)) is None


def test_a_broken_t38_negotiation_goes_to_g711_and_a_broken_g711_one_back() -> None:
    to_audio = fall_back(DEFAULT_ROUTE, _facts(NO_DCS_ANSWER, "t38"))
    assert to_audio is not None and to_audio.route.wire is Wire.AUDIO
    back = fall_back(to_audio.route, _facts(NO_DCS_ANSWER, "audio"))
    assert back is not None and back.route.wire is Wire.ANY
    # G.711 on a route that allowed T.38: the receiver never asked for T.38,
    # so allowing it again would change nothing.
    assert fall_back(DEFAULT_ROUTE, _facts(NO_DCS_ANSWER, "audio")) is None


@pytest.mark.parametrize("failure", [
    Failure(Source.Q850, 17),  # busy: the number, not the route
    Failure(Source.T30, T30Error.T0_EXPIRED),  # no fax machine answered
    Failure(Source.T30, T30Error.TX_PHDDEAD),  # after the page: the page's fault
])
def test_failures_no_route_avoids_do_not_fall_back(failure: Failure) -> None:
    assert fall_back(DEFAULT_ROUTE, _facts(failure)) is None


def test_a_negotiation_failure_after_a_page_went_through_does_not_fall_back() -> None:
    assert fall_back(DEFAULT_ROUTE, _facts(NO_DCS_ANSWER, pages=1)) is None


def test_success_keeps_what_worked_but_never_a_resolution_limit() -> None:
    route = Route(Wire.AUDIO, 14400, True, Resolution.FINE)
    kept = learned(route, _facts(None, "audio", pages=2, resolution=Resolution.STANDARD,
                                 bit_rate=9600, ecm=False))
    assert kept == Route(Wire.AUDIO, 9600, False, Resolution.FINE)
    # A rate spandsp never runs at is not learned.
    assert learned(route, _facts(None, bit_rate=1234)).max_bit_rate == 14400


def test_a_receiver_that_stayed_in_g711_is_called_without_the_t38_gateway_next_time() -> None:
    """The gateway silences a call to a G.711 receiver for 10 s (its re-INVITE wait):
    once a number answered in G.711 although T.38 was allowed, it is not armed again."""
    assert learned(DEFAULT_ROUTE, _facts(None, "audio", pages=1)).wire is Wire.AUDIO
    assert learned(DEFAULT_ROUTE, _facts(None, "t38", pages=1)).wire is Wire.ANY


@pytest.mark.parametrize(("worked_at", "next_cap"), [
    (14400, 14400), (12000, 14400), (9600, 9600), (7200, 9600), (4800, 4800), (2400, 4800)])
def test_every_rate_spandsp_runs_at_is_learned_as_a_cap_a_session_accepts(
        worked_at: int, next_cap: int, tmp_path: Path) -> None:
    """12000 and 7200 once became caps FaxSessionOptions refuses: the next attempt
    to that number could not even start."""
    route = learned(DEFAULT_ROUTE, _facts(None, pages=1, bit_rate=worked_at))
    assert route.max_bit_rate == next_cap
    FaxSessionOptions(Direction.SEND, SessionWire.AUDIO, tmp_path / "doc.tif",
                      max_bit_rate=route.max_bit_rate)


@pytest.mark.parametrize(("quality", "limit", "expected"), [
    (Quality.BEST, Resolution.SUPERFINE, Resolution.SUPERFINE),
    (Quality.PREMIUM, Resolution.STANDARD, Resolution.STANDARD),
    (Quality.HIGH, Resolution.SUPERFINE, Resolution.FINE),
    (Quality.NORMAL, Resolution.FINE, Resolution.STANDARD),
])
def test_a_document_goes_at_its_own_resolution_or_the_route_s_limit(
        quality: Quality, limit: Resolution, expected: Resolution) -> None:
    assert replace(DEFAULT_ROUTE, max_resolution=limit).resolution_for(quality) is expected


def test_renditions_sit_beside_their_document() -> None:
    assert rendition_path(Path("/spool/abc.tif"), Resolution.FINE) == Path("/spool/abc.fine.tif")
