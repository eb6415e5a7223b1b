"""Asyncio ARI client: typed REST calls and typed events over one WebSocket.

Written on aiohttp rather than taken from ari-py (synchronous), aioari
(unmaintained since 2020) or asyncari (anyio and Swagger-generated dynamic
methods): faxcore needs a small typed surface, asyncio TaskGroups and
reconnect-with-reconcile, which are a few hundred lines on aiohttp.
"""

from faxcore.ari.client import AriClient
from faxcore.ari.errors import (
    AriBadRequest,
    AriConflict,
    AriError,
    AriNotFound,
    AriProtocolError,
    AriUnavailable,
)
from faxcore.ari.models import Bridge, CallerId, Channel, DialplanLocation, Playback, Recording

__all__ = [
    "AriBadRequest",
    "AriClient",
    "AriConflict",
    "AriError",
    "AriNotFound",
    "AriProtocolError",
    "AriUnavailable",
    "Bridge",
    "CallerId",
    "Channel",
    "DialplanLocation",
    "Playback",
    "Recording",
]
