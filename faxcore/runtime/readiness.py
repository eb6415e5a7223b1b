"""Telling a supervisor that ``faxcore serve`` takes calls: the sd_notify protocol.

systemd (``Type=notify``) and anything else that sets ``NOTIFY_SOCKET`` get
``READY=1`` once the Stasis app's own event socket is connected, which is
when Asterisk starts routing calls to this process, and ``STOPPING=1`` at
stop. The protocol is one datagram on a Unix socket; without
``NOTIFY_SOCKET`` nothing is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

NOTIFY_SOCKET = "NOTIFY_SOCKET"


def notify(state: str, environ: dict[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``READY=1``) to the supervisor; False when none listens."""
    address = (environ if environ is not None else os.environ).get(NOTIFY_SOCKET, "")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError:
        return False
    return True


@contextlib.asynccontextmanager
async def readiness_listener() -> AsyncIterator[tuple[str, asyncio.Queue[str]]]:
    """A ``NOTIFY_SOCKET`` path for a child process, and the states it sends.

    What a supervisor does, for the lab's tools and tests that start ``serve``.
    """
    loop = asyncio.get_running_loop()
    states: asyncio.Queue[str] = asyncio.Queue()
    with tempfile.TemporaryDirectory(prefix="faxcore-notify-") as work:
        path = str(Path(work) / "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.setblocking(False)

        def readable() -> None:
            with contextlib.suppress(BlockingIOError):
                for line in sock.recv(4096).decode(errors="replace").splitlines():
                    states.put_nowait(line)

        loop.add_reader(sock.fileno(), readable)
        try:
            yield path, states
        finally:
            loop.remove_reader(sock.fileno())
            sock.close()


async def wait_ready(states: asyncio.Queue[str], timeout: float) -> None:
    """Until ``READY=1`` arrives; TimeoutError after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while await states.get() != "READY=1":
            pass
