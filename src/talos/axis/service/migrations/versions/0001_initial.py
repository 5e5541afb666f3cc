"""Initial job-state tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, **kwargs: Any) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(128), primary_key=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("frames_done", sa.Integer(), nullable=False),
        sa.Column("frames_total", sa.Integer(), nullable=True),
        sa.Column("wall_s", sa.Float(), nullable=True),
        sa.Column("output_url", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_status", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("callback_status", sa.String(16), nullable=True),
        sa.Column("callback_attempts", sa.Integer(), nullable=False),
        sa.Column("callback_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_lease_expires_at", "jobs", ["lease_expires_at"])
    op.create_table(
        "step_timings",
        sa.Column(
            "job_id",
            sa.String(128),
            sa.ForeignKey("jobs.job_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("step", sa.String(64), primary_key=True),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("total_ms", sa.Float(), nullable=False),
    )
    op.create_table(
        "frame_heads",
        sa.Column(
            "job_id",
            sa.String(128),
            sa.ForeignKey("jobs.job_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("frame", sa.Integer(), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
    )
    op.create_table(
        "frame_revisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "job_id",
            sa.String(128),
            sa.ForeignKey("jobs.job_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("frame", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("stroke_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(128), nullable=False),
        _ts("created_at", nullable=False),
        sa.Column("change", sa.JSON(), nullable=False),
        sa.Column("frame_json", sa.Text(), nullable=False),
        sa.UniqueConstraint("job_id", "frame", "revision"),
    )


def downgrade() -> None:
    op.drop_table("frame_revisions")
    op.drop_table("frame_heads")
    op.drop_table("step_timings")
    op.drop_index("ix_jobs_lease_expires_at", "jobs")
    op.drop_index("ix_jobs_status", "jobs")
    op.drop_table("jobs")
