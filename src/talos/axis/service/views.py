"""A job as the API shows it (``GET /jobs/{job_id}``), read from its row and step timings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from talos.axis.service.api_models import CallbackInfo, ErrorInfo, JobStatus, Progress
from talos.axis.service.jobs import COMPLETED
from talos.axis.service.tables import Job, StepTiming, as_utc
from talos.web.callbacks import redact


def status_view(sessions: sessionmaker[Session], job: Job) -> JobStatus:
    """``GET /jobs/{job_id}``: the job's status, progress, timings, error and callback."""
    with sessions() as session:
        steps = session.execute(
            select(StepTiming.step, StepTiming.total_ms).where(StepTiming.job_id == job.job_id)
        ).all()
    created, started, finished = (
        as_utc(job.created_at),
        as_utc(job.started_at),
        as_utc(job.finished_at),
    )
    timings: dict[str, Any] = {}
    if started and created:
        timings["queued_s"] = round((started - created).total_seconds(), 3)
    if job.wall_s is not None:
        timings["run_s"] = round(job.wall_s, 3)
    if steps:
        timings["steps_ms"] = {step: round(ms, 1) for step, ms in steps}
    total = job.frames_total
    error = None
    if job.error_code:
        error = ErrorInfo(
            code=job.error_code, message=job.error_message or "", http_status=job.error_status
        )
    return JobStatus(
        job_id=job.job_id,
        status=job.status,
        progress=Progress(
            frames_done=job.frames_done,
            frames_total=total,
            fraction=round(min(1.0, job.frames_done / total), 4) if total else None,
        ),
        timings=timings,
        attempts=job.attempts,
        error=error,
        output_url=job.output_url,
        lines_url=f"/jobs/{job.job_id}/lines.json" if job.status == COMPLETED else None,
        callback=CallbackInfo(
            url=redact(job.callback_url),  # its signing key is not for readers of the job
            status=job.callback_status,
            attempts=job.callback_attempts,
            error=job.callback_error,
        ),
        created_at=created,
        started_at=started,
        finished_at=finished,
    )
