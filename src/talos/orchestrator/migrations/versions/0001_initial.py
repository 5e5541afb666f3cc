"""Initial Orchestrator tables: jobs, stages, attempts, dead letters.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orch_jobs",
        sa.Column("job_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_module", sa.String(32), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_orch_jobs_status", "orch_jobs", ["status"])
    op.create_table(
        "orch_stages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(128), sa.ForeignKey("orch_jobs.job_id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=True),
        sa.Column("deadline_at", sa.Float(), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("output_url", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("request_body", sa.JSON(), nullable=True),
    )
    op.create_index("ix_orch_stages_job_id", "orch_stages", ["job_id"])
    op.create_index("ix_orch_stages_status", "orch_stages", ["status"])
    op.create_table(
        "orch_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("stage_id", sa.Integer(), sa.ForeignKey("orch_stages.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_orch_attempts_stage_id", "orch_attempts", ["stage_id"])
    op.create_table(
        "orch_dlq",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(128), sa.ForeignKey("orch_jobs.job_id"), nullable=False),
        sa.Column("module", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("transient", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.JSON(), nullable=False),
        sa.Column("request_body", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("replayed_at", sa.Float(), nullable=True),
        sa.Column("replay_count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_orch_dlq_job_id", "orch_dlq", ["job_id"])


def downgrade() -> None:
    for table in ("orch_dlq", "orch_attempts", "orch_stages", "orch_jobs"):
        op.drop_table(table)
