"""Voicemail: messages, greetings, mailbox settings (V1-V7).

Revision ID: 0003
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def _line_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["line_id"], ["lines.id"],
                                   name=op.f(f"fk_{table}_line_id_lines"), ondelete="CASCADE")


def upgrade() -> None:
    """Create the voicemail tables."""
    op.create_table(
        "voicemail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("folder", sa.Enum("new", "old", "deleted", name="voicemailfolder",
                                    native_enum=False, length=8), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        _line_fk("voicemail_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_messages")),
    )
    op.create_index(op.f("ix_voicemail_messages_line_id"), "voicemail_messages", ["line_id"])
    op.create_index(op.f("ix_voicemail_messages_folder"), "voicemail_messages", ["folder"])
    op.create_table(
        "voicemail_greetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _line_fk("voicemail_greetings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_greetings")),
        sa.UniqueConstraint("line_id", "kind", name="uq_voicemail_greetings_line"),
    )
    op.create_index(op.f("ix_voicemail_greetings_line_id"), "voicemail_greetings", ["line_id"])
    op.create_table(
        "voicemail_boxes",
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("greeting", sa.String(length=16), nullable=False),
        sa.Column("override", sa.String(length=16), nullable=True),
        sa.Column("skip_pin", sa.Boolean(), nullable=False),
        sa.Column("autoplay", sa.Boolean(), nullable=False),
        sa.Column("envelope", sa.String(length=16), nullable=False, server_default="both"),
        _line_fk("voicemail_boxes"),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_voicemail_boxes")),
    )
    op.create_table(
        "voicemail_pin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _line_fk("voicemail_pin_failures"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_pin_failures")),
    )
    op.create_index(op.f("ix_voicemail_pin_failures_line_id"), "voicemail_pin_failures",
                    ["line_id"])
    op.create_index(op.f("ix_voicemail_pin_failures_at"), "voicemail_pin_failures", ["at"])


def downgrade() -> None:
    """Drop the voicemail tables."""
    op.drop_index(op.f("ix_voicemail_pin_failures_at"), table_name="voicemail_pin_failures")
    op.drop_index(op.f("ix_voicemail_pin_failures_line_id"),
                  table_name="voicemail_pin_failures")
    op.drop_table("voicemail_pin_failures")
    op.drop_table("voicemail_boxes")
    op.drop_index(op.f("ix_voicemail_greetings_line_id"), table_name="voicemail_greetings")
    op.drop_table("voicemail_greetings")
    op.drop_index(op.f("ix_voicemail_messages_folder"), table_name="voicemail_messages")
    op.drop_index(op.f("ix_voicemail_messages_line_id"), table_name="voicemail_messages")
    op.drop_table("voicemail_messages")
