"""Line changes as every surface makes them: saved by ``LineService``, then live in Asterisk.

The CLI now, the API and the portal next, call this instead of ``LineService``
and the sync in turn. A change is committed first and the sync runs after it.
A sync that cannot write is reported on the change (``LineChange.asterisk``)
and never undoes it: rolling back would need the old secrets, and Asterisk
keeps its previous configuration meanwhile. Running the command again never
meets a half-done change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from faxcore.asterisk.errors import AsteriskConfigError
from faxcore.asterisk.sync import SyncResult, SyncTarget, sync_asterisk
from faxcore.config import FaxcoreConfig
from faxcore.domain import LineMode
from faxcore.lines.service import LineService, LineView
from faxcore.storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineChange:
    """A committed line change and what its Asterisk sync did."""

    line: LineView
    asterisk: SyncResult


class LineProvisioning:
    """Adds, changes and removes lines, then syncs ``target`` (given by the surface)."""

    def __init__(self, db: Database, config: FaxcoreConfig, target: SyncTarget | None) -> None:
        self.db = db
        self.lines = LineService(db, config=config)
        self.target = target

    async def add(self, number: str, sip_password: str, *, fax_password: str | None = None,
                  pin: str | None = None, mode: str | LineMode = LineMode.FAX,
                  station_id: str = "", header: str = "", language: str = "fr") -> LineChange:
        """Provision a line (L1) and make it live."""
        view = await self.lines.add(number, sip_password, fax_password=fax_password, pin=pin,
                                    mode=mode, station_id=station_id, header=header,
                                    language=language)
        return LineChange(view, await self.sync())

    async def set(self, number: str, **changes: Any) -> LineChange:
        """Change a line's settings (``LineService.set``) and make them live."""
        return LineChange(await self.lines.set(number, **changes), await self.sync())

    async def remove(self, number: str) -> LineChange:
        """Remove a line (its call log stays); Asterisk stops accepting its ATA."""
        return LineChange(await self.lines.remove(number), await self.sync())

    async def sync(self) -> SyncResult:
        """Sync after a committed change: a failure to write is a warning on the change."""
        try:
            return await sync_asterisk(self.db, self.target)
        except AsteriskConfigError as exc:
            log.warning("line change saved, Asterisk configuration not written: %s", exc)
            return SyncResult(failed=str(exc))
