"""Lines (L1) and the call log (P1).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``lines`` and ``call_log``."""
    op.create_table(
        "lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("fax", "voicemail", name="linemode", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("sip_username", sa.String(length=32), nullable=False),
        sa.Column("sip_realm", sa.String(length=64), nullable=False),
        sa.Column("sip_ha1", sa.String(length=64), nullable=False),
        sa.Column("fax_password_hash", sa.String(length=255), nullable=True),
        sa.Column("pin_hash", sa.String(length=255), nullable=True),
        sa.Column("station_id", sa.String(length=20), nullable=False),
        sa.Column("header", sa.String(length=80), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lines")),
        sa.UniqueConstraint("sip_username", name=op.f("uq_lines_sip_username")),
    )
    op.create_index(op.f("ix_lines_number"), "lines", ["number"], unique=True)

    op.create_table(
        "call_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("called", sa.String(length=64), nullable=False),
        sa.Column(
            "disposition",
            sa.Enum(
                "answered",
                "rejected_unknown_line",
                "rejected_filter",
                "failed",
                name="calldisposition",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cause", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["lines.id"],
            name=op.f("fk_call_log_line_id_lines"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_log")),
    )
    op.create_index(op.f("ix_call_log_channel_id"), "call_log", ["channel_id"], unique=False)
    op.create_index(op.f("ix_call_log_line_id"), "call_log", ["line_id"], unique=False)


def downgrade() -> None:
    """Drop ``call_log`` and ``lines``."""
    op.drop_index(op.f("ix_call_log_line_id"), table_name="call_log")
    op.drop_index(op.f("ix_call_log_channel_id"), table_name="call_log")
    op.drop_table("call_log")
    op.drop_index(op.f("ix_lines_number"), table_name="lines")
    op.drop_table("lines")
