"""Bridge joins run alone among this client's channel requests.

Asterisk 22 as Debian builds it keeps channels in the legacy ao2 container
(``core show settings``: "Channel storage backend: ao2_legacy"; the indexed
``cpp_map_name_id`` is not compiled in). There, every ARI request that names a
channel finds it by walking the whole container under its lock, locking each
channel in turn, while a bridge join holds its channel's lock and updates the
bridge's linked ids. The two at once can deadlock Asterisk for good: the
hang of issue 21, asterisk/asterisk#1962. faxcore therefore never has a
join (``addChannel``) in flight together with another request about channels
or bridges; requests about neither (global variables, recordings,
playbacks) pass freely, so the ownership heartbeat never waits on a call.

A waiting join goes before requests that arrive after it, so a busy node
cannot starve it. Other clients of the same Asterisk (AMI, the CLI) are out
of reach: the operator's Asterisk should use ``cpp_map_name_id`` where built.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Access(enum.Enum):
    """How a request may overlap others."""

    FREE = "free"            # touches no channel or bridge
    SHARED = "shared"        # looks up channels or bridges: many at once
    EXCLUSIVE = "exclusive"  # joins a channel to a bridge: alone


def access_of(method: str, path: str) -> Access:
    """The access a REST request needs."""
    parts = path.strip("/").split("/")
    if parts[0] not in ("channels", "bridges"):
        return Access.FREE
    if method == "POST" and parts[0] == "bridges" and parts[-1] == "addChannel":
        return Access.EXCLUSIVE
    return Access.SHARED


class JoinGate:
    """A readers-writer gate: shared lookups together, an exclusive join alone."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._shared = 0
        self._exclusive = False
        self._joins_waiting = 0

    @asynccontextmanager
    async def enter(self, access: Access) -> AsyncIterator[None]:
        """Hold the gate as ``access`` needs for the ``async with`` body."""
        if access is Access.FREE:
            yield
            return
        if access is Access.SHARED:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: not self._exclusive and not self._joins_waiting)
                self._shared += 1
            try:
                yield
            finally:
                async with self._changed:
                    self._shared -= 1
                    self._changed.notify_all()
            return
        async with self._changed:
            self._joins_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._exclusive and not self._shared)
            finally:
                self._joins_waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            async with self._changed:
                self._exclusive = False
                self._changed.notify_all()
