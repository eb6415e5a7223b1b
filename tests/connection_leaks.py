"""Every database connection a test checks out is back in its pool when the test ends.

A connection left checked out keeps its transaction, and on SQLite its write
lock, until the garbage collector finds it: CI once saw the lab database stay
locked across two tests, held by the test process itself. Each checkout is
recorded with the stack that took it; a test that leaves one behind fails
naming that stack.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

# id(connection record) -> the stack that checked it out, while it is out.
_CHECKED_OUT: dict[int, str] = {}


@event.listens_for(Pool, "checkout")
def _checked_out(_dbapi_connection: object, record: object, _proxy: object) -> None:
    _CHECKED_OUT[id(record)] = "".join(traceback.format_stack(limit=25)[:-3])


@event.listens_for(Pool, "checkin")
def _checked_in(_dbapi_connection: object, record: object) -> None:
    _CHECKED_OUT.pop(id(record), None)


@pytest.fixture(autouse=True)
def no_connection_left_checked_out() -> Iterator[None]:
    """Fails the test that ends with a database connection still out of its pool."""
    _CHECKED_OUT.clear()
    yield
    left = dict(_CHECKED_OUT)
    _CHECKED_OUT.clear()
    if left:
        gc.collect()  # what the collector can return does not lock the next test
        stacks = "\n---\n".join(left.values())
        pytest.fail(f"{len(left)} database connection(s) left checked out, taken at:\n{stacks}")
