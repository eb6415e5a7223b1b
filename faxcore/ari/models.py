"""ARI resources as frozen dataclasses, parsed from Asterisk's JSON.

Parsing is tolerant: unknown fields are ignored, missing optional fields get
defaults, so a newer Asterisk never breaks faxcore. A missing required field
(a channel without ``id``) raises ``AriProtocolError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from faxcore.ari.errors import AriProtocolError
from faxcore.security import untrusted


def _str(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    return default if value is None else str(value)


def _required(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str | int) or value == "":
        raise AriProtocolError(f"{what} without {key!r}: {dict(data)!r:.200}")
    return str(value)


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def parse_time(text: str) -> datetime | None:
    """ARI timestamps: ``2026-11-23T02:47:34.169+0000``; None when absent or bad."""
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None


@dataclass(frozen=True)
class CallerId:
    """A caller or connected-line identity, cleaned: the caller chose it.

    ``number`` holds only an optional ``+`` and digits, ``name`` only
    printable text (``faxcore.security.untrusted``).
    """

    name: str = ""
    number: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CallerId:
        return cls(name=untrusted.text(data.get("name")),
                   number=untrusted.caller_number(data.get("number")))


@dataclass(frozen=True)
class DialplanLocation:
    """Where the channel is in the dialplan (context, extension, priority)."""

    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str = ""
    app_data: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DialplanLocation:
        priority = data.get("priority", 0)
        return cls(
            context=_str(data, "context"),
            exten=untrusted.text(data.get("exten"), untrusted.ARG_MAX),
            priority=priority if isinstance(priority, int) else 0,
            app_name=_str(data, "app_name"),
            app_data=_str(data, "app_data"),
        )


@dataclass(frozen=True)
class Channel:
    """An Asterisk channel as ARI describes it."""

    id: str
    name: str = ""
    state: str = ""
    caller: CallerId = CallerId()
    connected: CallerId = CallerId()
    dialplan: DialplanLocation = DialplanLocation()
    language: str = ""
    creationtime: datetime | None = None
    protocol_id: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Channel:
        return cls(
            id=_required(data, "id", "channel"),
            name=_str(data, "name"),
            state=_str(data, "state"),
            caller=CallerId.parse(_mapping(data, "caller")),
            connected=CallerId.parse(_mapping(data, "connected")),
            dialplan=DialplanLocation.parse(_mapping(data, "dialplan")),
            language=_str(data, "language"),
            creationtime=parse_time(_str(data, "creationtime")),
            protocol_id=_str(data, "protocol_id"),
        )


@dataclass(frozen=True)
class Bridge:
    """A bridge and the channels in it."""

    id: str
    technology: str = ""
    bridge_type: str = ""
    name: str = ""
    channels: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Bridge:
        channels = data.get("channels")
        return cls(
            id=_required(data, "id", "bridge"),
            technology=_str(data, "technology"),
            bridge_type=_str(data, "bridge_type"),
            name=_str(data, "name"),
            channels=tuple(str(c) for c in channels) if isinstance(channels, list) else (),
        )


@dataclass(frozen=True)
class Playback:
    """A media playback on a channel or bridge."""

    id: str
    media_uri: str = ""
    target_uri: str = ""
    state: str = ""
    language: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Playback:
        return cls(
            id=_required(data, "id", "playback"),
            media_uri=_str(data, "media_uri"),
            target_uri=_str(data, "target_uri"),
            state=_str(data, "state"),
            language=_str(data, "language"),
        )


@dataclass(frozen=True)
class Recording:
    """A live recording (its ``name`` is the id ARI uses)."""

    name: str
    format: str = ""
    state: str = ""
    target_uri: str = ""
    duration: int | None = None
    cause: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Recording:
        duration = data.get("duration")
        return cls(
            name=_required(data, "name", "recording"),
            format=_str(data, "format"),
            state=_str(data, "state"),
            target_uri=_str(data, "target_uri"),
            duration=duration if isinstance(duration, int) else None,
            cause=_str(data, "cause"),
        )
