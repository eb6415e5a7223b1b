"""Errors of the spandsp binding; every failed C call becomes one of these."""

from faxcore.errors import FaxcoreError


class SpandspError(FaxcoreError):
    """Base of every error raised by :mod:`faxcore.spandsp`."""


class LibraryNotFoundError(SpandspError):
    """``libspandsp.so.2`` could not be loaded (package ``libspandsp2`` missing)."""


class InitError(SpandspError):
    """A ``*_init`` call returned NULL (out of memory or bad arguments)."""


class CallError(SpandspError):
    """A spandsp call returned a failure code."""

    def __init__(self, function: str, code: int) -> None:
        super().__init__(f"{function} failed with code {code}")
        self.function = function
        self.code = code


class InvalidPacketError(CallError):
    """``t38_core_rx_ifp_packet`` rejected an IFP packet as malformed."""


class ClosedError(SpandspError):
    """The object was used after ``close()``."""
