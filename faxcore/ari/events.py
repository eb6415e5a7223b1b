"""ARI WebSocket events turned into typed frozen dataclasses at the edge.

``parse_event`` is a pure function from the decoded JSON object to an event;
an event type faxcore does not model becomes ``UnknownEvent`` (with the raw
object), unknown fields are ignored. Only a malformed known event (a
``StasisStart`` without a channel) raises ``AriProtocolError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from faxcore.ari.errors import AriProtocolError
from faxcore.ari.models import Bridge, Channel, Playback, Recording, parse_time
from faxcore.security import untrusted


@dataclass(frozen=True)
class Event:
    """Common to every event: its type, timestamp and the application."""

    type: str
    timestamp: datetime | None
    application: str


@dataclass(frozen=True)
class ChannelEvent(Event):
    """An event about one channel."""

    channel: Channel


@dataclass(frozen=True)
class StasisStart(ChannelEvent):
    """A channel entered the application with the dialplan's arguments."""

    args: tuple[str, ...] = ()
    replace_channel: Channel | None = None


@dataclass(frozen=True)
class StasisEnd(ChannelEvent):
    """A channel left the application (hung up or continued)."""


@dataclass(frozen=True)
class ChannelStateChange(ChannelEvent):
    """The channel's state changed (Ring, Up, ...)."""


@dataclass(frozen=True)
class ChannelDtmfReceived(ChannelEvent):
    """A DTMF digit ended on the channel; ``digit`` is ``""`` for keys faxcore ignores (A-D)."""

    digit: str = ""
    duration_ms: int = 0


@dataclass(frozen=True)
class ChannelHangupRequest(ChannelEvent):
    """Someone asked the channel to hang up (``cause`` is Q.850)."""

    cause: int | None = None
    soft: bool = False


@dataclass(frozen=True)
class ChannelDestroyed(ChannelEvent):
    """The channel is gone; ``cause`` is the Q.850 cause."""

    cause: int = 0
    cause_txt: str = ""


@dataclass(frozen=True)
class ChannelVarset(Event):
    """A channel (or global, then ``channel`` is None) variable was set."""

    variable: str = ""
    value: str = ""
    channel: Channel | None = None


@dataclass(frozen=True)
class ChannelTalkingStarted(ChannelEvent):
    """TALK_DETECT heard speech start."""


@dataclass(frozen=True)
class ChannelTalkingFinished(ChannelEvent):
    """TALK_DETECT heard speech end; ``duration`` ms of talking."""

    duration: int = 0


@dataclass(frozen=True)
class PlaybackEvent(Event):
    """An event about one playback."""

    playback: Playback


@dataclass(frozen=True)
class PlaybackStarted(PlaybackEvent):
    """A playback began."""


@dataclass(frozen=True)
class PlaybackFinished(PlaybackEvent):
    """A playback ended (``playback.state`` says done or failed)."""


@dataclass(frozen=True)
class RecordingEvent(Event):
    """An event about one live recording."""

    recording: Recording


@dataclass(frozen=True)
class RecordingStarted(RecordingEvent):
    """A recording began."""


@dataclass(frozen=True)
class RecordingFinished(RecordingEvent):
    """A recording ended and its file is stored."""


@dataclass(frozen=True)
class RecordingFailed(RecordingEvent):
    """A recording failed (``recording.cause``)."""


@dataclass(frozen=True)
class BridgeEvent(Event):
    """An event about a bridge."""

    bridge: Bridge


@dataclass(frozen=True)
class BridgeCreated(BridgeEvent):
    """A bridge was created."""


@dataclass(frozen=True)
class BridgeDestroyed(BridgeEvent):
    """A bridge was destroyed."""


@dataclass(frozen=True)
class ChannelEnteredBridge(BridgeEvent):
    """A channel joined a bridge."""

    channel: Channel | None = None


@dataclass(frozen=True)
class ChannelLeftBridge(BridgeEvent):
    """A channel left a bridge."""

    channel: Channel | None = None


@dataclass(frozen=True)
class Dial(Event):
    """Dialing progress of ``peer`` (``dialstatus`` empty while it rings)."""

    peer: Channel | None = None
    caller: Channel | None = None
    dialstatus: str = ""
    dialstring: str = ""


@dataclass(frozen=True)
class ApplicationReplaced(Event):
    """Another WebSocket took the application over: no more events reach this one."""


@dataclass(frozen=True)
class ChannelUserevent(Event):
    """A user event posted with ``POST /events/user/{eventname}`` (no channel needed)."""

    eventname: str = ""
    userevent: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnknownEvent(Event):
    """Any event faxcore does not model; ``raw`` is the decoded JSON."""

    raw: Mapping[str, Any] = field(default_factory=dict)


def _channel(data: Mapping[str, Any], key: str = "channel") -> Channel:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise AriProtocolError(f"{data.get('type')} event without {key!r}")
    return Channel.parse(value)


def _opt_channel(data: Mapping[str, Any], key: str) -> Channel | None:
    value = data.get(key)
    return Channel.parse(value) if isinstance(value, Mapping) else None


def _int(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _sub(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise AriProtocolError(f"{data.get('type')} event without {key!r}")
    return value


Base = dict[str, Any]
_MAX_ARGS = 8  # the dialplan contract passes at most three
_Builder = Callable[[Base, Mapping[str, Any]], Event]


def _channel_event(cls: type[ChannelEvent]) -> _Builder:
    return lambda base, d: cls(**base, channel=_channel(d))


def _stasis_start(base: Base, d: Mapping[str, Any]) -> Event:
    args = d.get("args")
    return StasisStart(
        **base,
        channel=_channel(d),
        args=(tuple(untrusted.text(a, untrusted.ARG_MAX) for a in args[:_MAX_ARGS])
              if isinstance(args, list) else ()),
        replace_channel=_opt_channel(d, "replace_channel"),
    )


def _userevent(base: Base, d: Mapping[str, Any]) -> Event:
    values = d.get("userevent")
    return ChannelUserevent(
        **base, eventname=str(d.get("eventname", "")),
        userevent={str(k): str(v) for k, v in values.items()} if isinstance(values, Mapping)
        else {})


def _hangup_request(base: Base, d: Mapping[str, Any]) -> Event:
    cause = d.get("cause")
    return ChannelHangupRequest(
        **base, channel=_channel(d),
        cause=cause if isinstance(cause, int) else None, soft=bool(d.get("soft", False)),
    )


_BUILDERS: dict[str, _Builder] = {
    "ApplicationReplaced": lambda b, d: ApplicationReplaced(**b),
    "StasisStart": _stasis_start,
    "StasisEnd": _channel_event(StasisEnd),
    "ChannelStateChange": _channel_event(ChannelStateChange),
    "ChannelDtmfReceived": lambda b, d: ChannelDtmfReceived(
        **b, channel=_channel(d), digit=untrusted.dtmf_key(d.get("digit")),
        duration_ms=_int(d, "duration_ms")),
    "ChannelHangupRequest": _hangup_request,
    "ChannelDestroyed": lambda b, d: ChannelDestroyed(
        **b, channel=_channel(d), cause=_int(d, "cause"), cause_txt=str(d.get("cause_txt", ""))),
    "ChannelVarset": lambda b, d: ChannelVarset(
        **b, variable=str(d.get("variable", "")), value=str(d.get("value", "")),
        channel=_opt_channel(d, "channel")),
    "ChannelTalkingStarted": _channel_event(ChannelTalkingStarted),
    "ChannelTalkingFinished": lambda b, d: ChannelTalkingFinished(
        **b, channel=_channel(d), duration=_int(d, "duration")),
    "PlaybackStarted": lambda b, d: PlaybackStarted(
        **b, playback=Playback.parse(_sub(d, "playback"))),
    "PlaybackFinished": lambda b, d: PlaybackFinished(
        **b, playback=Playback.parse(_sub(d, "playback"))),
    "RecordingStarted": lambda b, d: RecordingStarted(
        **b, recording=Recording.parse(_sub(d, "recording"))),
    "RecordingFinished": lambda b, d: RecordingFinished(
        **b, recording=Recording.parse(_sub(d, "recording"))),
    "RecordingFailed": lambda b, d: RecordingFailed(
        **b, recording=Recording.parse(_sub(d, "recording"))),
    "BridgeCreated": lambda b, d: BridgeCreated(**b, bridge=Bridge.parse(_sub(d, "bridge"))),
    "BridgeDestroyed": lambda b, d: BridgeDestroyed(**b, bridge=Bridge.parse(_sub(d, "bridge"))),
    "ChannelEnteredBridge": lambda b, d: ChannelEnteredBridge(
        **b, bridge=Bridge.parse(_sub(d, "bridge")), channel=_opt_channel(d, "channel")),
    "ChannelLeftBridge": lambda b, d: ChannelLeftBridge(
        **b, bridge=Bridge.parse(_sub(d, "bridge")), channel=_opt_channel(d, "channel")),
    "ChannelUserevent": _userevent,
    "Dial": lambda b, d: Dial(
        **b, peer=_opt_channel(d, "peer"), caller=_opt_channel(d, "caller"),
        dialstatus=str(d.get("dialstatus", "")), dialstring=str(d.get("dialstring", ""))),
}


def parse_event(data: Mapping[str, Any]) -> Event:
    """Turn one decoded ARI event object into its typed event."""
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise AriProtocolError(f"ARI event without 'type': {dict(data)!r:.200}")
    base: Base = {
        "type": kind,
        "timestamp": parse_time(str(data.get("timestamp", ""))),
        "application": str(data.get("application", "")),
    }
    builder = _BUILDERS.get(kind)
    if builder is None:
        return UnknownEvent(**base, raw=data)
    return builder(base, data)


def parse_message(text: str | bytes) -> Event:
    """Decode one WebSocket text message into its event."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AriProtocolError(f"ARI event is not JSON: {text[:200]!r}") from exc
    if not isinstance(data, dict):
        raise AriProtocolError(f"ARI event is not a JSON object: {text[:200]!r}")
    return parse_event(data)
