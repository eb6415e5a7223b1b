"""Real brokers for the event tests: the system Mosquitto, and one of our own to stop."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable

SYSTEM_BROKER = "mqtt://127.0.0.1:1883"
# The ACL deploy/setup.sh installs: the brokers that require a login use it as shipped.
SHIPPED_ACL = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "faxcore.acl"
# Users of the authenticating broker: faxcore, a reader, and someone else on the machine.
BUS_USERS = {"faxcore": "bus-secret-1", "faxcore-reader": "reader-secret-2",
             "intruder": "intruder-secret-3"}


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Mosquitto:
    """A private Mosquitto on loopback that a test may stop and start again.

    Persistence is on, so a subscriber's persistent session (and the QoS 1
    messages queued for it) survives the restart, as on a production broker.
    """

    def __init__(self, folder: Path, users: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.folder = folder
        self.conf = folder / "mosquitto.conf"
        access = "allow_anonymous true\n"
        if users is not None:
            access = (f"allow_anonymous false\npassword_file {folder}/passwd\n"
                      f"acl_file {SHIPPED_ACL}\n")
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if user == next(iter(users))
                                                           else []),
                                str(folder / "passwd"), user, password], check=True)
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n{access}user root\n"
            f"persistence true\npersistence_location {folder}/\nautosave_interval 1\n"
            f"log_dest file {folder}/mosquitto.log\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def auth_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A private broker that requires a login (``BUS_USERS``) and applies the shipped ACL."""
    folder = tmp_path / "mosquitto-auth"
    folder.mkdir()
    broker = Mosquitto(folder, BUS_USERS)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A running private broker, stopped at the end whatever the test did."""
    if shutil.which("mosquitto") is None:
        unavailable("no mosquitto program to run a private broker")
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    broker = Mosquitto(folder)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
