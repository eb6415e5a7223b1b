"""Event outbox (N1), notification addresses and e-mails (N2, N3, R5, V8).

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

def _line_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("mail_format", sa.String(length=8), server_default="text", nullable=False),
        sa.Column("mail_from", sa.String(length=254), server_default="", nullable=False),
        sa.Column("mail_from_name", sa.String(length=80), server_default="", nullable=False),
        sa.Column("audio_format", sa.String(length=8), server_default="wav", nullable=False),
        sa.Column("keep_voicemail", sa.Boolean(), server_default="1", nullable=False),
    ]


def upgrade() -> None:
    """Add the line's mail settings and the three tables."""
    with op.batch_alter_table("lines") as batch:
        for column in _line_columns():
            batch.add_column(column)

    op.create_table(
        "event_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_outbox_event_id")),
    )
    op.create_index(op.f("ix_event_outbox_line"), "event_outbox", ["line"])
    op.create_index(op.f("ix_event_outbox_published_at"), "event_outbox", ["published_at"])
    op.create_index(op.f("ix_event_outbox_consumed_at"), "event_outbox", ["consumed_at"])

    op.create_table(
        "notify_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("kinds", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"],
            name=op.f("fk_notify_addresses_line_id_lines"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_addresses")),
        sa.UniqueConstraint("line_id", "address", name="uq_notify_addresses_line"),
    )
    op.create_index(op.f("ix_notify_addresses_line_id"), "notify_addresses", ["line_id"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("event_id", "address", name="uq_notifications_event"),
    )
    op.create_index(op.f("ix_notifications_line"), "notifications", ["line"])
    op.create_index(op.f("ix_notifications_state"), "notifications", ["state"])


def downgrade() -> None:
    """Drop the tables and the line's mail settings."""
    op.drop_table("notifications")
    op.drop_table("notify_addresses")
    op.drop_table("event_outbox")
    with op.batch_alter_table("lines") as batch:
        for column in _line_columns():
            batch.drop_column(column.name)
