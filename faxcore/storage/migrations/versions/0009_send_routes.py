"""Routes learned per line and destination; fallback attempts; each attempt's resolution and ECM.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the table and columns; existing jobs have made no fallback attempt."""
    op.create_table(
        "send_routes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("line_id", sa.Integer(), sa.ForeignKey("lines.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("to_number", sa.String(length=16), nullable=False),
        sa.Column("wire", sa.String(length=8), nullable=False),
        sa.Column("max_bit_rate", sa.Integer(), nullable=False),
        sa.Column("ecm", sa.Boolean(), nullable=False),
        sa.Column("max_resolution", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("line_id", "to_number", name="uq_send_routes_line_to"),
    )
    with op.batch_alter_table("send_jobs") as batch:
        batch.add_column(sa.Column("fallbacks", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("send_attempts") as batch:
        batch.add_column(sa.Column("resolution", sa.String(length=10), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("ecm", sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("send_attempts") as batch:
        batch.drop_column("ecm")
        batch.drop_column("resolution")
    with op.batch_alter_table("send_jobs") as batch:
        batch.drop_column("fallbacks")
    op.drop_table("send_routes")
