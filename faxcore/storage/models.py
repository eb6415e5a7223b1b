"""SQLAlchemy models. One module so Alembic sees every table.

Later features add their tables here (with a migration under
``faxcore/storage/migrations/versions``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from faxcore.domain import (
    CallDisposition,
    FaxState,
    FilterKind,
    LineMode,
    SecretKind,
    VoicemailFolder,
)

# Named constraints, so Alembic migrations (batch mode on SQLite) can find and
# alter them by name on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timestamps are stored timezone-aware, in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps the zone; SQLite has no datetime type and hands back
    naive values, which compare unequal to aware ones. Values are converted
    to UTC on the way in and come back aware in UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes: their zone is unknown."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """SQLite returns naive UTC: mark it as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        result: datetime = value.astimezone(UTC)
        return result


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Line(Base):
    """A subscriber line (L1). Secrets are stored hashed only.

    ``sip_ha1`` is the SIP digest HA1, ``md5(user:realm:password)``: all
    Asterisk needs to check the ATA's digest authentication, so the clear SIP
    password is never stored.
    """

    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    mode: Mapped[LineMode] = mapped_column(
        Enum(LineMode, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    sip_username: Mapped[str] = mapped_column(String(32), unique=True)
    sip_realm: Mapped[str] = mapped_column(String(64))
    sip_ha1: Mapped[str] = mapped_column(String(64))
    fax_password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pin_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    station_id: Mapped[str] = mapped_column(String(20), default="")
    header: Mapped[str] = mapped_column(String(80), default="")
    language: Mapped[str] = mapped_column(String(8), default="fr")
    # Sending (S2-S4): default quality, attempts (None: send.max_attempts) and
    # the transmit identity TSI ("": station_id, the receive identity CSI).
    send_quality: Mapped[str] = mapped_column(String(8), default="high", server_default="high")
    send_max_attempts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tsi: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # E-mail notifications (R5, V8): format, sender, audio format, keep the original.
    mail_format: Mapped[str] = mapped_column(String(8), default="text", server_default="text")
    mail_from: Mapped[str] = mapped_column(String(254), default="", server_default="")
    mail_from_name: Mapped[str] = mapped_column(String(80), default="", server_default="")
    audio_format: Mapped[str] = mapped_column(String(8), default="wav", server_default="wav")
    keep_voicemail: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # R4: refuse callers who withhold their number.
    refuse_anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), default=utcnow, onupdate=utcnow
    )


class CallLogEntry(Base):
    """One call that reached faxcore's Stasis application (P1 call log)."""

    __tablename__ = "call_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int | None] = mapped_column(
        ForeignKey("lines.id", ondelete="SET NULL"), nullable=True, index=True
    )
    direction: Mapped[str] = mapped_column(String(8), default="in")
    channel_id: Mapped[str] = mapped_column(String(128), index=True)
    caller: Mapped[str] = mapped_column(String(64), default="")
    called: Mapped[str] = mapped_column(String(64), default="")
    disposition: Mapped[CallDisposition] = mapped_column(
        Enum(
            CallDisposition,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    cause: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OutboxEvent(Base):
    """An N1 event, written in the transaction of the state change it reports.

    The MQTT relay sets ``published_at`` after the broker's PUBACK; the
    in-process notifier sets ``consumed_at`` once it has queued the e-mails.
    ``id`` gives the order events go out in.
    """

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    line: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


class NotifyAddress(Base):
    """An e-mail address notified for a line (R5, V8: at most 5), with its N3 kinds."""

    __tablename__ = "notify_addresses"
    __table_args__ = (UniqueConstraint("line_id", "address", name="uq_notify_addresses_line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    # Comma-separated ``faxcore.notify.prefs.Preference`` values.
    kinds: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Notification(Base):
    """One e-mail to send for one event to one address; its state survives restarts.

    Unique per (event, address): an event seen twice (outbox and MQTT, or a
    redelivery) never queues a second mail.
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("event_id", "address", name="uq_notifications_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    line: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    address: Mapped[str] = mapped_column(String(254))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ReceivedFax(Base):
    """One fax reception (R1, R2): written when it starts, updated per page, settled at the end."""

    __tablename__ = "received_faxes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int | None] = mapped_column(
        ForeignKey("lines.id", ondelete="SET NULL"), nullable=True, index=True
    )
    line_number: Mapped[str] = mapped_column(String(16), index=True)
    channel_id: Mapped[str] = mapped_column(String(128), default="")
    caller: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[FaxState] = mapped_column(
        Enum(FaxState, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        index=True,
    )
    remote_station_id: Mapped[str] = mapped_column(String(32), default="")
    local_station_id: Mapped[str] = mapped_column(String(32), default="")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    bit_rate: Mapped[int] = mapped_column(Integer, default=0)
    ecm: Mapped[bool] = mapped_column(Boolean, default=False)
    transport: Mapped[str] = mapped_column(String(8), default="audio")  # audio | t38
    t30_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_text: Mapped[str] = mapped_column(Text, default="")
    tiff_path: Mapped[str] = mapped_column(Text, default="")
    pdf_path: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SendJob(Base):
    """One fax to send from a line to one number (S1-S7); the durable queue row.

    A send to several numbers makes one job per number sharing ``batch`` and
    the converted ``document``. ``state`` is ``queued`` (waiting for
    ``next_attempt_at``), ``sending`` (claimed by ``lease_owner`` until
    ``lease_expires_at``), then ``sent``, ``failed`` or ``cancelled``.
    """

    __tablename__ = "send_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch: Mapped[str] = mapped_column(String(36), index=True)
    line_id: Mapped[int | None] = mapped_column(
        ForeignKey("lines.id", ondelete="SET NULL"), nullable=True, index=True
    )
    line_number: Mapped[str] = mapped_column(String(16), index=True)
    to_number: Mapped[str] = mapped_column(String(16))
    document: Mapped[str] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(Integer)
    quality: Mapped[str] = mapped_column(String(8))
    tsi: Mapped[str] = mapped_column(String(20), default="")
    report_to: Mapped[str | None] = mapped_column(String(254), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Attempts retried at once on another route (resolution, wire): not counted
    # against ``max_attempts``.
    fallbacks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SendAttempt(Base):
    """One dialling of a send job: when, how it ended and what was transferred."""

    __tablename__ = "send_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("send_jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(64))
    # ``sending``, then ``sent``, ``failed`` or ``interrupted`` (lease expired).
    outcome: Mapped[str] = mapped_column(String(16), default="sending")
    q850_cause: Mapped[int | None] = mapped_column(Integer, nullable=True)
    t30_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    bit_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_csi: Mapped[str] = mapped_column(String(20), default="")
    transport: Mapped[str] = mapped_column(String(8), default="")
    # The route it was sent on: resolution of the document, ECM negotiated.
    resolution: Mapped[str] = mapped_column(String(10), default="", server_default="")
    ecm: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SendRoute(Base):
    """What worked (or was refused) sending from a line to one number: used first next time.

    Kept per line, so what one subscriber's faxes learn shows nothing of
    another's (lines are isolated on every surface).
    """

    __tablename__ = "send_routes"
    __table_args__ = (UniqueConstraint("line_id", "to_number", name="uq_send_routes_line_to"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    to_number: Mapped[str] = mapped_column(String(16))
    wire: Mapped[str] = mapped_column(String(8))
    max_bit_rate: Mapped[int] = mapped_column(Integer)
    ecm: Mapped[bool] = mapped_column(Boolean)
    max_resolution: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CallFilter(Base):
    """One blacklist or whitelist entry of a line: a number, or a prefix ending in ``*``."""

    __tablename__ = "call_filters"
    __table_args__ = (
        UniqueConstraint("line_id", "kind", "pattern", name="uq_call_filters_entry"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FilterKind] = mapped_column(
        Enum(FilterKind, native_enum=False, length=8,
             values_callable=lambda e: [m.value for m in e])
    )
    pattern: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class VoicemailMessage(Base):
    """A message left on an answering-machine line (V2); its audio is a WAV file."""

    __tablename__ = "voicemail_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    caller: Mapped[str] = mapped_column(String(64), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(1024))
    folder: Mapped[VoicemailFolder] = mapped_column(
        Enum(VoicemailFolder, native_enum=False, length=8,
             values_callable=lambda e: [m.value for m in e]), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class VoicemailGreeting(Base):
    """A recorded greeting or name of a line (V1), one per kind."""

    __tablename__ = "voicemail_greetings"
    __table_args__ = (UniqueConstraint("line_id", "kind", name="uq_voicemail_greetings_line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class VoicemailBox(Base):
    """A line's answering-machine settings: which greeting callers hear (V1)."""

    __tablename__ = "voicemail_boxes"

    line_id: Mapped[int] = mapped_column(
        ForeignKey("lines.id", ondelete="CASCADE"), primary_key=True)
    greeting: Mapped[str] = mapped_column(String(16), default="system")
    override: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # V3: calling from the line's own ATA: no PIN asked when set.
    skip_pin: Mapped[bool] = mapped_column(Boolean, default=False)
    # V4: play the first message right after the counts.
    autoplay: Mapped[bool] = mapped_column(Boolean, default=False)
    # V4: what is said before a message (``faxcore.voicemail.menu.Envelope``).
    envelope: Mapped[str] = mapped_column(String(16), default="both")


class SecretAttempt(Base):
    """One check of a line's PIN or fax password, recorded before the secret is verified.

    ``settled`` is False while the check runs and True once it was wrong; a
    right one is deleted. Attempts inside the lockout window (settled or not)
    bound how many more checks the line admits (``faxcore.lines.attempts``).
    """

    __tablename__ = "secret_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    secret: Mapped[SecretKind] = mapped_column(
        Enum(SecretKind, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]))
    caller: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
