"""The notifier: events in, e-mails out, each exactly once and none lost.

Events come from the outbox (``consume_outbox``, in ``faxcore serve``) or
from MQTT (``consume_mqtt``, ``faxcore notifier``). Either way ``ingest``
turns one event into one ``Notification`` row per recipient, unique per
(event, address), so an event seen twice queues nothing more. Outbox rows are
marked consumed in the same transaction as the rows they produce.

``deliver_due`` sends what is due. A row is claimed first (its attempt
counter moves and its next attempt is pushed a lease ahead, conditionally on
the counter, so two notifiers never send the same row), then sent with
aiosmtplib, then marked ``sent``. SMTP down or refusing: the row stays
``pending`` with the error and a later attempt (``RetryPolicy``); after the
last attempt it is ``failed`` and logged. The window left is a crash after
the server accepted the mail and before ``sent`` is written: that mail goes
again with the same Message-ID, which receiving systems deduplicate.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiomqtt
import aiosmtplib
import jinja2
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from faxcore.cancellation import stop_if_cancelled
from faxcore.config import NotifyConfig, SmtpConfig
from faxcore.events.errors import InvalidEvent
from faxcore.events.kinds import EventKind
from faxcore.events.outbox import Event
from faxcore.events.relay import BrokerAddress
from faxcore.notify.attachments import gather_parts
from faxcore.notify.compose import LineMail, compose
from faxcore.notify.errors import DeliveryFailed, ForgedEvent, NotifyError
from faxcore.notify.prefs import MAILED_KINDS, parse_preferences, recipients
from faxcore.notify.retry import RetryPolicy
from faxcore.notify.states import NOTIFICATIONS, InvalidTransition, NotificationState
from faxcore.notify.verify import verified
from faxcore.runtime.supervisor import Loop
from faxcore.storage.db import Database
from faxcore.storage.models import Line, Notification, NotifyAddress, OutboxEvent, utcnow

log = logging.getLogger(__name__)

# How long a claimed row is left alone by other notifiers while it is being sent.
CLAIM_LEASE = timedelta(minutes=5)

# V8 "delete after forwarding": run once every mail of a voicemail went out,
# when the line keeps no copy. The voicemail store owns the message, so the
# step comes from it (``faxcore.notify.wiring``); None keeps the message.
AfterForward = Callable[[Event, LineMail], Awaitable[None]]


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes, parsed from ``smtp.url``: ``smtp://user:pass@host:25``, ``smtps://``."""

    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    starttls: bool
    timeout: float
    ca_file: str | None = None

    @classmethod
    def from_config(cls, smtp: SmtpConfig) -> SmtpServer:
        parts = urlsplit(smtp.url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise NotifyError(f"smtp.url {smtp.url!r}: expected smtp://host[:port] or smtps://")
        implicit = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if implicit else 25)
        except ValueError as exc:
            raise NotifyError(f"smtp.url {smtp.url!r}: bad port") from exc
        server = cls(parts.hostname, port,
                     unquote(parts.username) if parts.username else None,
                     unquote(parts.password) if parts.password else None,
                     implicit, smtp.starttls and not implicit, smtp.timeout,
                     smtp.ca_file or None)
        if server.password and not (server.use_tls or server.starttls) \
                and not _loopback(server.host):
            raise NotifyError(f"smtp.url: a password for {server.host} would travel in clear; "
                              "set smtp.starttls or use smtps://")
        if server.ca_file and not Path(server.ca_file).is_file():
            raise NotifyError(f"smtp.ca_file {server.ca_file!r}: no such file")
        return server

    async def send(self, message: EmailMessage) -> None:
        """Hand the message over; ``DeliveryFailed`` when the server is down or refuses."""
        try:
            await aiosmtplib.send(
                message, hostname=self.host, port=self.port, username=self.username,
                password=self.password, use_tls=self.use_tls, start_tls=self.starttls,
                timeout=self.timeout, cert_bundle=self.ca_file,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{self.host}:{self.port}: {exc}") from exc


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Notifier:
    """Queues and sends the notification e-mails of one database."""

    def __init__(self, db: Database, smtp: SmtpConfig, notify: NotifyConfig, *,
                 after_forward: AfterForward | None = None) -> None:
        self.db = db
        self.smtp_config = smtp
        self.server = SmtpServer.from_config(smtp)
        self.notify = notify
        self.retry = RetryPolicy(notify.retry_initial, notify.retry_max, notify.max_attempts)
        self.after_forward = after_forward

    # --- events in ---------------------------------------------------------------

    async def ingest(self, event: Event, session: AsyncSession | None = None, *,
                     from_bus: bool = False) -> int:
        """Queue the mails of one event (idempotent); returns how many rows are new.

        ``from_bus``: the event was read from MQTT, where anyone allowed to
        publish could have written it; it is checked against the database
        (``faxcore.notify.verify``) and a forged one is queued as failed.
        """
        if session is None:
            async with self.db.session() as own:
                return await self._ingest(own, event, from_bus)
        return await self._ingest(session, event, from_bus)

    async def _ingest(self, session: AsyncSession, event: Event, from_bus: bool = False) -> int:
        if event.kind not in MAILED_KINDS:
            return 0
        line = await session.scalar(select(Line).where(Line.number == event.line))
        if line is None:
            log.info("event %s for unknown line %s: no e-mail", event.id, event.line)
            return 0
        state, error = NotificationState.PENDING, ""
        if from_bus:
            try:
                event = await verified(session, line, event)
            except ForgedEvent as exc:
                log.error("bus event refused, nothing mailed: %s", exc)
                # Counted as failed for the line's own addresses, never a given one.
                event = replace(event, data={k: v for k, v in event.data.items()
                                             if k != "report_to"})
                state, error = NotificationState.FAILED, f"refused: {exc}"
        rows = await session.execute(
            select(NotifyAddress.address, NotifyAddress.kinds)
            .where(NotifyAddress.line_id == line.id).order_by(NotifyAddress.id))
        addresses = [(a, parse_preferences(k)) for a, k in rows]
        chosen = recipients(event.kind, event.data, addresses)
        if not chosen:
            return 0
        values = [
            {"event_id": event.id, "line": event.line, "kind": event.kind.value,
             "address": address, "payload": event.to_json(), "state": state, "attempts": 0,
             "next_attempt_at": utcnow(), "last_error": error, "created_at": utcnow()}
            for address in chosen
        ]
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        statement = insert(Notification).values(values).on_conflict_do_nothing(
            index_elements=["event_id", "address"]).returning(Notification.id)
        return len((await session.execute(statement)).all())

    async def consume_outbox(self, limit: int = 100) -> int:
        """Queue the mails of outbox events not yet consumed, oldest first."""
        async with self.db.session() as session:
            rows = list(await session.scalars(
                select(OutboxEvent).where(OutboxEvent.consumed_at.is_(None))
                .order_by(OutboxEvent.id).limit(limit)))
            for row in rows:
                try:
                    await self._ingest(session, Event.from_json(row.payload))
                except InvalidEvent as exc:
                    log.error("outbox event %s unreadable, skipped: %s", row.event_id, exc)
                row.consumed_at = utcnow()
        return len(rows)

    async def consume_mqtt(self, broker: BrokerAddress, prefix: str,
                           client_id: str = "faxcore-notifier") -> None:
        """Subscribe to the bus (persistent session, QoS 1) and ingest every event.

        aiomqtt acknowledges a message when it is queued to us, before it is
        ingested: a crash in between loses that event's mails. The outbox
        source has no such window; prefer it when the database is shared.
        """
        delay = 0.5
        while True:
            try:
                async with broker.client(client_id, clean_session=False) as client:
                    await client.subscribe(f"{prefix.rstrip('/')}/#", qos=1)
                    stop_if_cancelled()  # the SUBACK's wait may have swallowed it
                    log.info("notifier subscribed to %s/# on %s:%d", prefix, broker.host,
                             broker.port)
                    delay = 0.5
                    async for message in client.messages:
                        await self._ingest_message(message.payload)
            except aiomqtt.MqttError as exc:
                stop_if_cancelled()
                level, text = broker.explain(exc)
                log.log(level, "notifier: %s; retrying in %.1f s", text, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)

    async def _ingest_message(self, payload: object) -> None:
        if not isinstance(payload, bytes | str):
            log.error("bus message without a text payload, skipped")
            return
        try:
            await self.ingest(Event.from_json(payload), from_bus=True)
        except InvalidEvent as exc:
            log.error("bus message skipped: %s", exc)

    # --- mails out ----------------------------------------------------------------

    async def deliver_due(self, limit: int = 20) -> int:
        """Try every notification that is due; returns how many were attempted."""
        async with self.db.session(read_only=True) as session:
            now = await self.db.now(session)  # claims compare on the database's clock
            due = list(await session.execute(
                select(Notification.id, Notification.attempts)
                .where(Notification.state == NotificationState.PENDING,
                       Notification.next_attempt_at <= now)
                .order_by(Notification.id).limit(limit)))
        attempted = 0
        for row_id, attempts in due:
            if await self._claim(row_id, attempts):
                attempted += 1
                await self._deliver(row_id)
        return attempted

    async def _claim(self, row_id: int, attempts: int) -> bool:
        async with self.db.session() as session:
            lease_end = await self.db.now(session) + CLAIM_LEASE
            result = await session.execute(
                update(Notification)
                .where(Notification.id == row_id, Notification.state == NotificationState.PENDING,
                       Notification.attempts == attempts)
                .values(attempts=attempts + 1, next_attempt_at=lease_end))
            return int(getattr(result, "rowcount", 0) or 0) == 1

    async def _deliver(self, row_id: int) -> None:
        async with self.db.session(read_only=True) as session:
            row = await session.get(Notification, row_id)
            if row is None:
                return
            line = await self._line_mail(session, row.line)
        try:
            event = Event.from_json(row.payload)
            message = await self._message(event, line, row.address)
            await self.server.send(message)
        except jinja2.TemplateError as exc:
            await self._finish(row_id, NotificationState.FAILED, f"template error: {exc}")
            log.error("notification %d (%s to %s) cannot be rendered: %s", row_id,
                      row.kind, row.address, exc)
            return
        except DeliveryFailed as exc:
            await self._failed_attempt(row_id, row.attempts, row.kind, row.address, exc)
            return
        except Exception as exc:
            # Anything else (an unreadable attachment, a bad payload) is a failed
            # attempt of this row: retried with backoff, ``failed`` after the last.
            log.exception("notification %d (%s to %s): attempt %d failed unexpectedly",
                          row_id, row.kind, row.address, row.attempts)
            await self._failed_attempt(row_id, row.attempts, row.kind, row.address, exc)
            return
        await self._finish(row_id, NotificationState.SENT, "")
        log.info("notification %d sent: %s to %s", row_id, row.kind, row.address)
        if event.kind is EventKind.VOICEMAIL_MESSAGE and not line.keep_voicemail:
            await self._maybe_forwarded(event, line)

    async def _message(self, event: Event, line: LineMail, address: str) -> EmailMessage:
        max_bytes = int(self.notify.max_attachment_mb * 1_000_000)
        parts = await gather_parts(event, line, max_bytes)
        return compose(event, line, address, parts, self.smtp_config.from_address,
                       self.smtp_config.from_name)

    async def _failed_attempt(self, row_id: int, attempts: int, kind: str, address: str,
                              exc: Exception) -> None:
        async with self.db.session(read_only=True) as session:
            retry_at = self.retry.next_attempt(attempts, await self.db.now(session))
        if retry_at is None:
            await self._finish(row_id, NotificationState.FAILED, str(exc))
            log.error("notification %d (%s to %s) failed after %d attempts: %s",
                      row_id, kind, address, attempts, exc)
            return
        async with self.db.session() as session:
            await session.execute(update(Notification).where(Notification.id == row_id)
                                  .values(next_attempt_at=retry_at, last_error=str(exc)))
        log.warning("notification %d (%s to %s) attempt %d failed, next at %s: %s",
                    row_id, kind, address, attempts, retry_at.isoformat(), exc)

    async def _finish(self, row_id: int, state: NotificationState, error: str) -> None:
        async with self.db.session() as session:
            result = await session.execute(
                update(Notification).where(Notification.id == row_id,
                                           Notification.state.in_(NOTIFICATIONS.sources(state)))
                .values(state=state, last_error=error,
                        sent_at=utcnow() if state is NotificationState.SENT else None))
            if int(getattr(result, "rowcount", 0) or 0) != 1:
                raise InvalidTransition(f"notification {row_id} cannot become {state}")

    async def _maybe_forwarded(self, event: Event, line: LineMail) -> None:
        """Run the after-forward step once every mail of the event was sent."""
        if self.after_forward is None:
            return
        async with self.db.session(read_only=True) as session:
            left = await session.scalar(
                select(func.count(Notification.id))
                .where(Notification.event_id == event.id,
                       Notification.state != NotificationState.SENT))
        if not left:
            await self.after_forward(event, line)

    @staticmethod
    async def _line_mail(session: AsyncSession, number: str) -> LineMail:
        line = await session.scalar(select(Line).where(Line.number == number))
        if line is None:
            return LineMail(number)
        return LineMail(number=line.number, language=line.language,
                        mail_format=line.mail_format, mail_from=line.mail_from,
                        mail_from_name=line.mail_from_name, audio_format=line.audio_format,
                        keep_voicemail=line.keep_voicemail)

    # --- loops ----------------------------------------------------------------------

    def delivery_loop(self) -> Loop:
        """Sending what is due, for the process supervisor."""
        return Loop("notifier-delivery", self.deliver_due, idle=self.notify.poll_interval)

    def outbox_loop(self) -> Loop:
        """Consuming the outbox (the in-process source), for the process supervisor."""
        return Loop("notifier-outbox", self.consume_outbox, idle=self.notify.poll_interval)


@dataclass(frozen=True)
class NotificationView:
    """One queued, sent or failed e-mail, for ``faxcore notify queue``."""

    id: int
    line: str
    kind: str
    address: str
    state: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


async def recent_notifications(db: Database, line: str | None = None, state: str | None = None,
                               limit: int = 50) -> list[NotificationView]:
    """The newest notifications, optionally of one line or in one state."""
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if line is not None:
        query = query.where(Notification.line == line)
    if state is not None:
        query = query.where(Notification.state == state)
    async with db.session(read_only=True) as session:
        rows = await session.scalars(query)
        return [NotificationView(r.id, r.line, r.kind, r.address, r.state, r.attempts,
                                 r.last_error, r.created_at, r.next_attempt_at, r.sent_at)
                for r in rows]
