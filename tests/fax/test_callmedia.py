"""The fax media endpoint: a call whose audio stops ends instead of waiting forever.

A real spandsp ``FaxSession`` on the receiving side; no audio is fed, which is
what faxcore sees when Asterisk's stream to it stops.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from faxcore.fax import callmedia
from faxcore.fax.callmedia import FaxMediaEndpoint
from faxcore.fax.events import FaxCompleted
from faxcore.fax.options import Direction, FaxSessionOptions, SessionWire
from faxcore.fax.session import FaxSession


async def test_a_fax_without_audio_ends_as_a_dropped_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callmedia, "MEDIA_SILENCE_SECONDS", 0.5)
    options = FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, tmp_path / "rx.tif",
                                local_ident="+33972100001", max_duration=600.0)
    with FaxSession(options, time.monotonic()) as session:
        endpoint = FaxMediaEndpoint(session)
        await callmedia._end_when_silent(endpoint, "pbx-1", time.monotonic)
        assert session.done and endpoint.close_reason == "no audio"
        events = [endpoint.events.get_nowait() for _ in range(endpoint.events.qsize())]
    assert isinstance(events[-1], FaxCompleted) and not events[-1].success


async def test_audio_keeps_the_fax_going(tmp_path: Path) -> None:
    options = FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, tmp_path / "rx.tif",
                                local_ident="+33972100001", max_duration=600.0)
    with FaxSession(options, time.monotonic()) as session:
        endpoint = FaxMediaEndpoint(session)
        before = endpoint.last_audio
        assert len(endpoint.on_audio(bytes(320))) == 320  # 20 ms in, 20 ms out
        assert endpoint.last_audio >= before and not session.done


def test_frames_arriving_after_the_session_is_freed_are_answered_with_nothing(
        tmp_path: Path) -> None:
    options = FaxSessionOptions(Direction.RECEIVE, SessionWire.AUDIO, tmp_path / "rx.tif",
                                local_ident="+33972100001", max_duration=600.0)
    with FaxSession(options, time.monotonic()) as session:
        endpoint = FaxMediaEndpoint(session)
    assert session.closed and not session.done  # its setup failed: freed before any result
    assert endpoint.on_audio(bytes(320)) == b""
    endpoint.on_closed("eof")  # Asterisk closing the stream later must not raise either
    assert endpoint.close_reason == "eof"
