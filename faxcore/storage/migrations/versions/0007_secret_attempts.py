"""Attempts at a line's PIN or fax password, recorded before verification.

Replaces ``voicemail_pin_failures``: its rows are kept as settled PIN failures.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``secret_attempts``, move the PIN failures into it, drop the old table."""
    op.create_table(
        "secret_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Enum("pin", "fax_password", name="secretkind", native_enum=False,
                                    length=16), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"],
                                name=op.f("fk_secret_attempts_line_id_lines"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_attempts")),
    )
    op.create_index(op.f("ix_secret_attempts_line_id"), "secret_attempts", ["line_id"])
    op.create_index(op.f("ix_secret_attempts_at"), "secret_attempts", ["at"])
    op.execute("INSERT INTO secret_attempts (line_id, secret, caller, at, settled) "
               "SELECT line_id, 'pin', caller, at, TRUE FROM voicemail_pin_failures")
    op.drop_index(op.f("ix_voicemail_pin_failures_at"), table_name="voicemail_pin_failures")
    op.drop_index(op.f("ix_voicemail_pin_failures_line_id"),
                  table_name="voicemail_pin_failures")
    op.drop_table("voicemail_pin_failures")


def downgrade() -> None:
    """Back to ``voicemail_pin_failures`` (settled PIN failures only)."""
    op.create_table(
        "voicemail_pin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"],
                                name=op.f("fk_voicemail_pin_failures_line_id_lines"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_pin_failures")),
    )
    op.create_index(op.f("ix_voicemail_pin_failures_line_id"), "voicemail_pin_failures",
                    ["line_id"])
    op.create_index(op.f("ix_voicemail_pin_failures_at"), "voicemail_pin_failures", ["at"])
    op.execute("INSERT INTO voicemail_pin_failures (line_id, caller, at) "
               "SELECT line_id, caller, at FROM secret_attempts "
               "WHERE secret = 'pin' AND settled")
    op.drop_index(op.f("ix_secret_attempts_at"), table_name="secret_attempts")
    op.drop_index(op.f("ix_secret_attempts_line_id"), table_name="secret_attempts")
    op.drop_table("secret_attempts")
