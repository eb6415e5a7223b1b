"""Ownership of one spandsp C object: free exactly once, never use after free."""

from __future__ import annotations

import weakref
from collections.abc import Callable

from faxcore.spandsp.errors import ClosedError


class Handle:
    """A C pointer, its free function, and the ctypes callbacks C may call.

    The object layer and every borrowed view (e.g. the T.30 engine of a fax
    channel) share one ``Handle``; the finalizer frees the C object when the
    last of them is garbage, or at once on :meth:`close`.  Callbacks live here
    so they cannot be collected while the C object can still call them.
    """

    __slots__ = ("__weakref__", "_finalizer", "callbacks", "name", "pending", "ptr")

    def __init__(self, name: str, ptr: int, free: Callable[[int], int]) -> None:
        self.name = name
        self.ptr = ptr
        self.callbacks: list[object] = []
        # An exception raised by a Python callback inside a C call: ctypes
        # cannot propagate it, so it is kept here and re-raised by the
        # object layer as soon as the C call returns.
        self.pending: BaseException | None = None
        self._finalizer = weakref.finalize(self, free, ptr)

    def get(self) -> int:
        """The live pointer, or :class:`ClosedError` after close."""
        if not self.ptr:
            raise ClosedError(f"{self.name} is closed")
        return self.ptr

    @property
    def closed(self) -> bool:
        """True once the C object has been freed."""
        return not self.ptr

    def close(self) -> None:
        """Free the C object now (idempotent)."""
        self.ptr = 0
        self._finalizer()

    def store(self, exc: BaseException) -> None:
        """Keep the first exception a callback raised while C was running it."""
        if self.pending is None:
            self.pending = exc

    def raise_pending(self) -> None:
        """Re-raise (once) what a callback raised during the last C call."""
        exc = self.pending
        if exc is not None:
            self.pending = None
            raise exc
