"""The one shape in which every feature plugs into ``faxcore serve``.

A feature's ``wiring`` module turns the process's open parts (``ServeParts``)
into a ``Contribution``: the call handlers of line modes it answers, the
service numbers it answers, the screen it puts before every line's calls,
the handler of a line's calls to numbers that are no line,
its start-up work (run before the first call is taken: settling interrupted
faxes, recovering recordings) and its background loops (run by the process
supervisor once the Stasis app exists). ``faxcore.runtime.serve`` is the only
place that knows the whole list; features never import each other's wiring.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from faxcore.ari.client import AriClient
from faxcore.calls.app import StasisApp
from faxcore.calls.handlers import Handler, OutboundHandler, Screen, ServiceHandler
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode
from faxcore.media.server import AudioSocketServer
from faxcore.runtime.supervisor import Loop, Supervisor
from faxcore.storage.db import Database

StartUp = Callable[[], Awaitable[object]]
LoopsOf = Callable[[StasisApp, Supervisor], Sequence[Loop]]

_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True)
class ServeParts:
    """What ``faxcore serve`` opened for the features to build on."""

    config: FaxcoreConfig
    db: Database
    ari: AriClient
    media: AudioSocketServer


def _no_loops(app: StasisApp, supervisor: Supervisor) -> Sequence[Loop]:
    return ()


@dataclass(frozen=True)
class Contribution:
    """What one feature adds to ``faxcore serve``; every part is optional."""

    name: str
    handlers: Mapping[LineMode, Handler] = field(default_factory=dict)
    services: Mapping[str, ServiceHandler] = field(default_factory=dict)
    screen: Screen | None = None
    outbound: OutboundHandler | None = None
    startup: Sequence[StartUp] = ()
    loops: LoopsOf = _no_loops


def merged(what: str, parts: Iterable[tuple[str, Mapping[_K, _V]]]) -> dict[_K, _V]:
    """The features' entries in one mapping; two features claiming one key is a wiring bug."""
    claimed: dict[_K, str] = {}
    out: dict[_K, _V] = {}
    for owner, entries in parts:
        for key, value in entries.items():
            if key in claimed:
                raise ValueError(f"{what} {key!r} claimed by {claimed[key]} and {owner}")
            claimed[key] = owner
            out[key] = value
    return out


def the_one(what: str, parts: Iterable[tuple[str, _V | None]]) -> _V | None:
    """The one feature's part of a kind only one may provide (a screen, the outbound handler)."""
    given = [(owner, part) for owner, part in parts if part is not None]
    if len(given) > 1:
        raise ValueError(f"{what} claimed by {given[0][0]} and {given[1][0]}")
    return given[0][1] if given else None
