"""Received faxes (R1, R2).

Revision ID: 0002
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``received_faxes``."""
    op.create_table(
        "received_faxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("line_number", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Enum("receiving", "received", "partial", "failed",
                                   name="faxstate", native_enum=False, length=16),
                  nullable=False),
        sa.Column("remote_station_id", sa.String(length=32), nullable=False),
        sa.Column("local_station_id", sa.String(length=32), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("bit_rate", sa.Integer(), nullable=False),
        sa.Column("ecm", sa.Boolean(), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("t30_code", sa.Integer(), nullable=True),
        sa.Column("result_text", sa.Text(), nullable=False),
        sa.Column("tiff_path", sa.Text(), nullable=False),
        sa.Column("pdf_path", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"],
                                name=op.f("fk_received_faxes_line_id_lines"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_faxes")),
    )
    op.create_index(op.f("ix_received_faxes_line_id"), "received_faxes", ["line_id"])
    op.create_index(op.f("ix_received_faxes_line_number"), "received_faxes", ["line_number"])
    op.create_index(op.f("ix_received_faxes_state"), "received_faxes", ["state"])


def downgrade() -> None:
    """Drop ``received_faxes``."""
    op.drop_table("received_faxes")
