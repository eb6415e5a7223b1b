"""Real brokers for the event tests: the system Mosquitto, and one of our own to stop."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from faxcore.events.relay import BrokerAddress
from tests.cancellation import wait_for_a_result_that_meets_a_cancel
from tests.conftest import unavailable
from tests.tls import Certificate, self_signed

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

    def __init__(self, folder: Path, users: dict[str, str] | None = None,
                 certificate: Certificate | None = None) -> None:
        self.port = free_port()
        self.folder = folder
        self.tls = certificate is not None
        self.conf = folder / "mosquitto.conf"
        access = "allow_anonymous true\n"
        if users is not None:
            access = (f"allow_anonymous false\npassword_file {folder}/passwd\n"
                      f"acl_file {SHIPPED_ACL}\n")
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if user == next(iter(users))
                                                           else []),
                                str(folder / "passwd"), user, password], check=True)
        listener = f"listener {self.port} 127.0.0.1\n"
        if certificate is not None:  # TLS only: the server's own certificate is its CA
            listener += (f"cafile {certificate.cert}\ncertfile {certificate.cert}\n"
                         f"keyfile {certificate.key}\n")
        self.conf.write_text(
            f"{listener}{access}user root\n"
            f"persistence true\npersistence_location {folder}/\nautosave_interval 1\n"
            f"log_dest file {folder}/mosquitto.log\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

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
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, Certificate]]:
    """A private broker that speaks only TLS and requires a login, with its certificate."""
    folder = tmp_path / "mosquitto-tls"
    folder.mkdir()
    certificate = self_signed(folder / "cert")
    broker = Mosquitto(folder, BUS_USERS, certificate)
    broker.start()
    try:
        yield broker, certificate
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


@pytest.fixture
def frozen_broker(own_broker: Mosquitto) -> Iterator[Mosquitto]:
    """A real broker that accepts TCP connections but answers nothing (SIGSTOP)."""
    assert own_broker.process is not None
    pid = own_broker.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield own_broker
    finally:
        os.kill(pid, signal.SIGCONT)


async def stops_within_seconds(loop: Coroutine[Any, Any, None]) -> None:
    """Cancel ``loop`` while it waits for the broker's CONNACK: it must end, not reconnect."""
    task = asyncio.create_task(loop)
    await asyncio.sleep(0.5)
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    assert task.done(), "still running 5 s after it was cancelled: the stop was swallowed"
    assert task.cancelled()


class WrapsCancelWhileConnecting:
    """aiomqtt's connect as Python 3.11's ``wait_for`` can leave it: a cancel that
    meets the connect timeout comes out as ``MqttError("Operation timed out")``.

    A fake, because the race needs the cancel to land within the instant the
    real connect times out; the real broker tests above cover the usual path.
    """

    async def __aenter__(self) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling() > 1:
                raise  # only the first stop is wrapped: a failing test can still end
            raise aiomqtt.MqttError("Operation timed out") from None

    async def __aexit__(self, *exc: object) -> None:
        return None


@dataclass(frozen=True)
class CancelWrappingBroker(BrokerAddress):
    """A broker address whose clients wrap the cancel (``WrapsCancelWhileConnecting``)."""

    def client(self, identifier: str | None = None,  # type: ignore[override]
               clean_session: bool | None = None) -> WrapsCancelWhileConnecting:
        return WrapsCancelWhileConnecting()


class AckedAsItIsStopped:
    """An aiomqtt client whose PUBACK or SUBACK arrives in the instant its user is cancelled.

    aiomqtt awaits both through Python 3.11's ``wait_for``, which then
    swallows the cancel; no message ever comes after the SUBACK. Fake for the
    timing only, which a real broker cannot be made to hit on demand (it hung a
    CI run's MQTT-over-TLS test).
    """

    async def __aenter__(self) -> AckedAsItIsStopped:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def publish(self, topic: str, payload: object = None, qos: int = 0) -> None:
        await wait_for_a_result_that_meets_a_cancel()

    async def subscribe(self, topic: str, qos: int = 0) -> None:
        await wait_for_a_result_that_meets_a_cancel()

    @property
    async def messages(self) -> AsyncIterator[aiomqtt.Message]:
        await asyncio.Event().wait()  # a quiet bus
        yield


@dataclass(frozen=True)
class AckMeetsStopBroker(BrokerAddress):
    """A broker address whose clients get their PUBACK or SUBACK as they are stopped."""

    def client(self, identifier: str | None = None,  # type: ignore[override]
               clean_session: bool | None = None) -> AckedAsItIsStopped:
        return AckedAsItIsStopped()
