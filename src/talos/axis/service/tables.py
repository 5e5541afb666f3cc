"""Job-state tables (SQLAlchemy 2). The database is the truth about every job.

``jobs``            one row per accepted POST /generate; status, progress, lease, result, error
``step_timings``    per job and step: frames and total milliseconds (for /metrics and GET /jobs)
``frame_heads``     per edited frame: its current revision number (the ETag), compare-and-swap
``frame_revisions`` every stroke edit: who, when, what, and the whole frame JSON after it

:func:`migrate` brings a database to the newest revision of ``migrations/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from talos.web import db

MIGRATIONS = Path(__file__).with_name("migrations")


def migrate(engine: Engine) -> None:
    """Bring the job database's schema to the newest revision of :data:`MIGRATIONS`."""
    db.migrate(engine, MIGRATIONS, "the job database")


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` with its time zone: SQLite hands back naive datetimes, and all of ours are UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued|running|completed|failed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    # Unix seconds: compares the same way in every database, whatever its time zone handling
    lease_expires_at: Mapped[float | None] = mapped_column(Float, index=True)
    frames_done: Mapped[int] = mapped_column(Integer, default=0)
    frames_total: Mapped[int | None] = mapped_column(Integer)
    wall_s: Mapped[float | None] = mapped_column(Float)
    output_url: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_status: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(Text)
    callback_status: Mapped[str | None] = mapped_column(String(16))  # delivered|failed|none
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    callback_error: Mapped[str | None] = mapped_column(Text)


class StepTiming(Base):
    __tablename__ = "step_timings"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    frames: Mapped[int] = mapped_column(Integer)
    total_ms: Mapped[float] = mapped_column(Float)


class FrameHead(Base):
    __tablename__ = "frame_heads"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True
    )
    frame: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)


class FrameRevision(Base):
    __tablename__ = "frame_revisions"
    __table_args__ = (UniqueConstraint("job_id", "frame", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.job_id", ondelete="CASCADE"))
    frame: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # original|patch|delete|add|restore
    stroke_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    change: Mapped[dict[str, Any]] = mapped_column(JSON)
    frame_json: Mapped[str] = mapped_column(Text)
