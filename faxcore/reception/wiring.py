"""Wiring: fax lines' reception handler, the call screen and start-up settling for ``serve``."""

from __future__ import annotations

from faxcore.domain import LineMode
from faxcore.reception.filters import FilterService, screener
from faxcore.reception.handler import FaxReceptionHandler
from faxcore.reception.store import FaxStore
from faxcore.runtime.feature import Contribution, ServeParts


def contribution(parts: ServeParts) -> Contribution:
    """Fax lines are received; every line's calls are screened (R4); faxes a stop
    interrupted are settled before the first call."""
    store = FaxStore(parts.db, parts.config.fax_dir)
    return Contribution(
        "reception",
        handlers={LineMode.FAX: FaxReceptionHandler(store, parts.media, parts.config)},
        screen=screener(FilterService(parts.db)),
        startup=(store.settle_interrupted,))
