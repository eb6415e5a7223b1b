"""Notification mail over TLS with a login, against aiosmtpd requiring both."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from faxcore.config import FaxcoreConfig, NotifyConfig, SmtpConfig
from faxcore.events import EventKind, emit
from faxcore.notify.errors import NotifyError
from faxcore.notify.notifier import Notifier, SmtpServer
from faxcore.storage.db import Database
from faxcore.storage.models import Notification
from tests.events.conftest import free_port
from tests.notify.conftest import LINE, Mailbox
from tests.tls import Certificate, self_signed

# aiosmtpd warns about auth_require_tls=False, needed for its implicit TLS (see below).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "faxcore@example.net", "smtp-secret-9"


@dataclass
class Checked(Mailbox):
    """Accepts mail only over TLS from the right login, and records how it came."""

    sessions: list[tuple[bool, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        encrypted = server.transport is not None and \
            server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append((encrypted, session.authenticated))
        return await super().handle_DATA(server, session, envelope)


def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                  auth_data: object) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and \
        (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok)


@dataclass
class TlsServer:
    mailbox: Checked
    port: int
    implicit: bool

    def url(self, password: str = PASSWORD) -> str:
        scheme = "smtps" if self.implicit else "smtp"
        return f"{scheme}://{USER.replace('@', '%40')}:{password}@127.0.0.1:{self.port}"


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path / "smtp-cert")


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(request: pytest.FixtureRequest, certificate: Certificate) -> Iterator[TlsServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    implicit = request.param == "implicit"
    mailbox, port = Checked(), free_port()
    # aiosmtpd advertises AUTH under implicit TLS only with auth_require_tls off
    # (it tracks STARTTLS alone); the listener itself is TLS-only, which
    # Checked.sessions verifies for every mail.
    tls = ({"ssl_context": context, "auth_require_tls": False} if implicit
           else {"tls_context": context, "require_starttls": True})
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, auth_required=True,
                            authenticator=authenticator, **tls)  # type: ignore[arg-type]
    controller.start()
    try:
        yield TlsServer(mailbox, port, implicit)
    finally:
        controller.stop()


def smtp_config(server: TlsServer, ca_file: Path | None,
                password: str = PASSWORD) -> SmtpConfig:
    return SmtpConfig(url=server.url(password), starttls=not server.implicit, timeout=10.0,
                      ca_file=str(ca_file) if ca_file else "", from_address=USER)


async def deliver_one(database: Database, config: FaxcoreConfig, smtp: SmtpConfig) -> str:
    async with database.session() as session:
        await emit(session, line=LINE, kind=EventKind.FAX_FAILED, data={"reason": "no carrier"})
    notifier = Notifier(database, smtp, NotifyConfig(max_attempts=5))
    await notifier.consume_outbox()
    await notifier.deliver_due()
    async with database.session(read_only=True) as session:
        rows = list(await session.scalars(select(Notification)))
    return " | ".join(f"{r.state}: {r.last_error}" for r in rows)


async def test_mail_goes_over_tls_with_the_login(
        database: Database, line: str, config: FaxcoreConfig, tls_server: TlsServer,
        certificate: Certificate) -> None:
    states = await deliver_one(database, config, smtp_config(tls_server, certificate.cert))
    assert states == "sent:  | sent: "
    assert tls_server.mailbox.sessions == [(True, True), (True, True)]
    assert sorted(m["To"] for m in tls_server.mailbox.snapshot()) == [
        "alice@example.com", "bob@example.com"]


async def test_an_unknown_certificate_is_refused(
        database: Database, line: str, config: FaxcoreConfig, tls_server: TlsServer) -> None:
    states = await deliver_one(database, config, smtp_config(tls_server, None))
    assert states.count("CERTIFICATE_VERIFY_FAILED") == 2
    assert tls_server.mailbox.snapshot() == []


def test_a_password_over_plain_smtp_to_another_host_is_refused() -> None:
    with pytest.raises(NotifyError, match="would travel in clear"):
        SmtpServer.from_config(SmtpConfig(url="smtp://u:p@mail.example.net:25"))
