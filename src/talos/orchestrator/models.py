"""The Orchestrator's tables, on their own metadata (separate from the AXIS service's).

Times are UTC epoch seconds (floats): the scheduler compares them with ``time.time()`` and
they mean the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class OrchestratorBase(DeclarativeBase):
    pass


class JobRow(OrchestratorBase):
    __tablename__ = "orch_jobs"

    job_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # generate | recolor | edit
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|running|completed|failed
    current_module: Mapped[str | None] = mapped_column(String(32))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    stages: Mapped[list[StageRow]] = relationship(
        back_populates="job", order_by="StageRow.position", cascade="all, delete-orphan"
    )


class StageRow(OrchestratorBase):
    __tablename__ = "orch_stages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("orch_jobs.job_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    module: Mapped[str] = mapped_column(String(32))  # prism | axis | axis_edit | chroma
    # pending (not reached) | ready | dispatching | waiting | retry_wait | completed | failed
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float | None] = mapped_column(Float)
    deadline_at: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    output_url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    request_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job: Mapped[JobRow] = relationship(back_populates="stages")
    attempt_log: Mapped[list[AttemptRow]] = relationship(
        order_by="AttemptRow.number", cascade="all, delete-orphan"
    )


class AttemptRow(OrchestratorBase):
    __tablename__ = "orch_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("orch_stages.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    # running | accepted | completed | transient | permanent | timeout
    outcome: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class DeadLetterRow(OrchestratorBase):
    __tablename__ = "orch_dlq"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("orch_jobs.job_id"), index=True)
    module: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    transient: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    request_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    replayed_at: Mapped[float | None] = mapped_column(Float)
    replay_count: Mapped[int] = mapped_column(Integer, default=0)
