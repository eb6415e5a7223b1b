"""A real SMTP server on loopback (aiosmtpd) that a test can refuse or stop, and a line."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from faxcore.config import FaxcoreConfig, NotifyConfig, SmtpConfig
from faxcore.lines.service import LineService
from faxcore.notify.addresses import NotifyService
from faxcore.storage.db import Database
from faxcore.storage.models import Notification
from tests.events.conftest import (  # noqa: F401 (fixtures)
    auth_broker,
    free_port,
    frozen_broker,
    own_broker,
)

LINE = "+33123456789"


@dataclass
class Mailbox:
    """What the server accepted, and whether it refuses (451) for now."""

    refuse: bool = False
    messages: list[EmailMessage] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.refuse:
                self.refused += 1
                return "451 4.3.0 Mail server temporarily rejected message"
            message = email.message_from_bytes(envelope.content or b"",
                                               policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
        return "250 OK"

    def snapshot(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)


class SmtpServer:
    """aiosmtpd on a fixed free loopback port, stoppable and restartable."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def notify_config(config: FaxcoreConfig, smtp: SmtpServer, **overrides: object) -> FaxcoreConfig:
    """``config`` sending to ``smtp``, with fast retries (a test waits seconds, not hours)."""
    config.smtp = SmtpConfig(url=smtp.url, timeout=5.0, from_address="fax@example.net",
                             from_name="Faxcore")
    settings = {"retry_initial": 0.1, "retry_max": 0.3, "poll_interval": 0.05,
                "max_attempts": 200, **overrides}
    config.notify = NotifyConfig(**settings)  # type: ignore[arg-type]
    return config


@pytest.fixture
async def line(database: Database) -> AsyncIterator[str]:
    """A fax line notifying two addresses of everything."""
    await LineService(database).add(LINE, "sip-pass-123", mode="fax", language="fr")
    notify = NotifyService(database)
    await notify.add(LINE, "alice@example.com")
    await notify.add(LINE, "bob@example.com")
    yield LINE


def write_pdf(path: Path, pages: int) -> Path:
    """A small valid PDF of ``pages`` pages."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with path.open("wb") as out:
        writer.write(out)
    return path


def write_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A mono 16-bit tone of ``seconds`` seconds."""
    import math
    import struct
    import wave

    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                          for n in range(int(seconds * rate)))
        wav.writeframes(frames)
    return path


async def notifications_of(db_url: str, event_id: str) -> list[Notification]:
    """The mails queued for one event, whatever their state."""
    async with Database(db_url) as db, db.session(read_only=True) as session:
        return list(await session.scalars(
            select(Notification).where(Notification.event_id == event_id)))
