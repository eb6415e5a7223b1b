"""Inbound call filters (R4): per-line blacklist/whitelist and anonymous refusal.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``lines.refuse_anonymous`` and ``call_filters``."""
    with op.batch_alter_table("lines") as batch:
        batch.add_column(sa.Column("refuse_anonymous", sa.Boolean(), server_default="0",
                                   nullable=False))
    op.create_table(
        "call_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("block", "allow", name="filterkind", native_enum=False,
                                  length=8), nullable=False),
        sa.Column("pattern", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"],
                                name=op.f("fk_call_filters_line_id_lines"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_filters")),
        sa.UniqueConstraint("line_id", "kind", "pattern", name="uq_call_filters_entry"),
    )
    op.create_index(op.f("ix_call_filters_line_id"), "call_filters", ["line_id"])


def downgrade() -> None:
    """Drop what ``upgrade`` added."""
    op.drop_index(op.f("ix_call_filters_line_id"), table_name="call_filters")
    op.drop_table("call_filters")
    with op.batch_alter_table("lines") as batch:
        batch.drop_column("refuse_anonymous")
