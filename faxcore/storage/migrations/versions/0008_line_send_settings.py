"""A line's own send settings: default quality (S2), attempts (S4), transmit identity (S3).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the columns; existing lines keep today's behaviour (high, configured attempts)."""
    with op.batch_alter_table("lines") as batch:
        batch.add_column(sa.Column("send_quality", sa.String(length=8), nullable=False,
                                   server_default="high"))
        batch.add_column(sa.Column("send_max_attempts", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("tsi", sa.String(length=20), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("lines") as batch:
        batch.drop_column("tsi")
        batch.drop_column("send_max_attempts")
        batch.drop_column("send_quality")
