"""Send queue (S1-S7): jobs and their attempts.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``send_jobs`` and ``send_attempts``."""
    op.create_table(
        "send_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("line_number", sa.String(length=16), nullable=False),
        sa.Column("to_number", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("quality", sa.String(length=8), nullable=False),
        sa.Column("tsi", sa.String(length=20), nullable=False),
        sa.Column("report_to", sa.String(length=254), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"],
            name=op.f("fk_send_jobs_line_id_lines"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_jobs")),
    )
    for column in ("batch", "line_id", "line_number", "state", "next_attempt_at"):
        op.create_index(op.f(f"ix_send_jobs_{column}"), "send_jobs", [column])

    op.create_table(
        "send_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("q850_cause", sa.Integer(), nullable=True),
        sa.Column("t30_code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("bit_rate", sa.Integer(), nullable=True),
        sa.Column("remote_csi", sa.String(length=20), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["send_jobs.id"],
            name=op.f("fk_send_attempts_job_id_send_jobs"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_attempts")),
    )
    op.create_index(op.f("ix_send_attempts_job_id"), "send_attempts", ["job_id"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("send_attempts")
    op.drop_table("send_jobs")
