"""The job service: accept, look up, claim (with a lease), progress, finish. The database is
the truth; every state change is one short transaction."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from talos.axis.service.api_models import (
    CallbackInfo,
    ErrorInfo,
    GenerateRequest,
    JobStatus,
    Progress,
    check_job_id,
)
from talos.axis.service.runtime import Runtime
from talos.axis.service.tables import Job, StepTiming, utcnow
from talos.web.errors import ApiError, not_found, unavailable

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"
STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED)
SENDING = "sending"  # callback_status while a process is delivering it


def request_hash(request: GenerateRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def valid_job_id(job_id: str) -> str:
    try:
        return check_job_id(job_id)
    except ValueError as exc:
        raise ApiError(400, "invalid_job_id", str(exc)) from None


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; all of ours are UTC
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class JobService:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.sessions = runtime.sessions

    # -- accepting --------------------------------------------------------------------------

    def submit(self, request: GenerateRequest) -> tuple[Job, bool]:
        """Insert the job (status queued); ``(job, created)``. Same id + same body returns the
        existing job (see :meth:`requeue_failed` for a retry); same id + another body is a
        409."""
        digest = request_hash(request)
        existing = self.find(request.job_id)
        if existing is not None:
            return self._same_or_conflict(existing, digest), False
        if self.count(QUEUED) >= self.rt.settings.queue.max_pending:
            raise unavailable(
                "queue_full",
                f"{self.rt.settings.queue.max_pending} jobs are already waiting; try again later",
                retry_after_s=30,
            )
        job = Job(
            job_id=request.job_id,
            request=request.model_dump(mode="json"),
            request_hash=digest,
            status=QUEUED,
            attempts=0,
            frames_done=0,
            callback_url=request.callback_url or self.rt.settings.callbacks.orchestrator_url,
            callback_attempts=0,
        )
        try:
            with self.sessions.begin() as session:
                session.add(job)
        except IntegrityError:  # a concurrent POST with the same id won the race
            existing = self.find(request.job_id)
            if existing is None:
                raise
            return self._same_or_conflict(existing, digest), False
        return job, True

    @staticmethod
    def _same_or_conflict(job: Job, digest: str) -> Job:
        if job.request_hash != digest:
            raise ApiError(
                409,
                "job_conflict",
                f"job {job.job_id} already exists with a different request",
                {"status": job.status},
            )
        return job

    def requeue_failed(self, job_id: str) -> bool:
        """Queue a failed job again (a repeated POST of the same request is a retry), as if
        just accepted; its ``attempts`` keep counting. False unless it was failed: of two
        concurrent retries only one re-queues it."""
        with self.sessions.begin() as session:
            result = session.execute(
                update(Job)
                .where(Job.job_id == job_id, Job.status == FAILED)
                .values(
                    status=QUEUED,
                    updated_at=utcnow(),
                    started_at=None,
                    finished_at=None,
                    lease_owner=None,
                    lease_expires_at=None,
                    frames_done=0,
                    frames_total=None,
                    wall_s=None,
                    output_url=None,
                    error_code=None,
                    error_status=None,
                    error_message=None,
                    callback_status=None,
                    callback_attempts=0,
                    callback_error=None,
                )
            )
            return result.rowcount == 1

    # -- reading ----------------------------------------------------------------------------

    def find(self, job_id: str) -> Job | None:
        with self.sessions() as session:
            return session.get(Job, job_id)

    def get(self, job_id: str) -> Job:
        job = self.find(valid_job_id(job_id))
        if job is None:
            raise not_found(f"no job {job_id}")
        return job

    def count(self, status: str) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).where(Job.status == status)) or 0

    def counts(self) -> dict[str, int]:
        with self.sessions() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        found = {status: int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def step_totals(self) -> list[tuple[str, int, float]]:
        """``(step, frames, total_ms)`` summed over all finished jobs."""
        with self.sessions() as session:
            rows = session.execute(
                select(StepTiming.step, func.sum(StepTiming.frames), func.sum(StepTiming.total_ms))
                .group_by(StepTiming.step)
                .order_by(StepTiming.step)
            ).all()
        return [(step, int(frames or 0), float(total or 0.0)) for step, frames, total in rows]

    def status_of(self, job: Job) -> JobStatus:
        with self.sessions() as session:
            steps = session.execute(
                select(StepTiming.step, StepTiming.total_ms).where(StepTiming.job_id == job.job_id)
            ).all()
        created, started, finished = (
            _aware(job.created_at),
            _aware(job.started_at),
            _aware(job.finished_at),
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
            status=job.status,  # type: ignore[arg-type]
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
                url=job.callback_url,
                status=job.callback_status,
                attempts=job.callback_attempts,
                error=job.callback_error,
            ),
            created_at=created,
            started_at=started,
            finished_at=finished,
        )

    # -- working (called by workers) --------------------------------------------------------

    def claimable(self, limit: int = 10) -> Sequence[str]:
        """Ids of queued jobs and running jobs whose lease has expired, oldest first."""
        now = time.time()
        with self.sessions() as session:
            return session.scalars(
                select(Job.job_id)
                .where(
                    or_(
                        Job.status == QUEUED,
                        (Job.status == RUNNING) & (Job.lease_expires_at < now),
                    )
                )
                .order_by(Job.created_at)
                .limit(limit)
            ).all()

    def stale_queued(self, older_than_s: float) -> Sequence[str]:
        """Queued jobs nobody has picked up for a while (their message may be lost)."""
        cutoff = utcnow().timestamp() - older_than_s
        with self.sessions() as session:
            rows = session.execute(
                select(Job.job_id, Job.updated_at).where(Job.status == QUEUED)
            ).all()
        return [job_id for job_id, updated in rows if _aware(updated).timestamp() < cutoff]

    def claim(self, job_id: str, owner: str) -> bool:
        """Take the job if it is queued or its lease expired (compare-and-swap)."""
        now = time.time()
        lease = self.rt.settings.service.lease_s
        with self.sessions.begin() as session:
            result = session.execute(
                update(Job)
                .where(
                    Job.job_id == job_id,
                    or_(
                        Job.status == QUEUED,
                        (Job.status == RUNNING) & (Job.lease_expires_at < now),
                    ),
                )
                .values(
                    status=RUNNING,
                    lease_owner=owner,
                    lease_expires_at=now + lease,
                    attempts=Job.attempts + 1,
                    frames_done=0,
                    started_at=func.coalesce(Job.started_at, utcnow()),
                    updated_at=utcnow(),
                )
            )
            return result.rowcount == 1

    def heartbeat(
        self,
        job_id: str,
        owner: str,
        frames_done: int | None = None,
        frames_total: int | None = None,
    ) -> bool:
        """Renew the lease (and record progress); False if this worker no longer owns it."""
        values: dict[str, Any] = {
            "lease_expires_at": time.time() + self.rt.settings.service.lease_s,
            "updated_at": utcnow(),
        }
        if frames_done is not None:
            values["frames_done"] = frames_done
        if frames_total is not None:
            values["frames_total"] = frames_total
        with self.sessions.begin() as session:
            result = session.execute(
                update(Job)
                .where(Job.job_id == job_id, Job.lease_owner == owner, Job.status == RUNNING)
                .values(**values)
            )
            return result.rowcount == 1

    def complete(
        self,
        job_id: str,
        owner: str,
        output_url: str,
        frames: int,
        wall_s: float,
        steps: Sequence[tuple[str, int, float]],
    ) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(
                update(Job)
                .where(Job.job_id == job_id, Job.lease_owner == owner, Job.status == RUNNING)
                .values(
                    status=COMPLETED,
                    output_url=output_url,
                    frames_done=frames,
                    frames_total=frames,
                    wall_s=wall_s,
                    finished_at=utcnow(),
                    updated_at=utcnow(),
                    lease_expires_at=None,
                    error_code=None,
                    error_status=None,
                    error_message=None,
                )
            )
            if result.rowcount != 1:
                return False
            for step, n, total_ms in steps:
                session.merge(StepTiming(job_id=job_id, step=step, frames=n, total_ms=total_ms))
            return True

    def fail(self, job_id: str, owner: str | None, error: ApiError) -> bool:
        conditions = [Job.job_id == job_id, Job.status.in_((QUEUED, RUNNING))]
        if owner is not None:
            conditions.append(Job.lease_owner == owner)
        with self.sessions.begin() as session:
            result = session.execute(
                update(Job)
                .where(*conditions)
                .values(
                    status=FAILED,
                    error_code=error.code,
                    error_status=error.status,
                    error_message=error.message,
                    finished_at=utcnow(),
                    updated_at=utcnow(),
                    lease_expires_at=None,
                )
            )
            return result.rowcount == 1

    # -- callbacks: claimed like jobs, so exactly one process sends each ------------------------

    def _callback_due(self, now: float):  # noqa: ANN202
        return (
            Job.status.in_((COMPLETED, FAILED)),
            Job.callback_url.is_not(None),
            or_(
                Job.callback_status.is_(None),
                (Job.callback_status == SENDING) & (Job.lease_expires_at < now),
            ),
        )

    def pending_callbacks(self, limit: int = 20) -> Sequence[str]:
        """Finished jobs whose callback was never sent (or whose sender died)."""
        with self.sessions() as session:
            return session.scalars(
                select(Job.job_id).where(*self._callback_due(time.time())).limit(limit)
            ).all()

    def claim_callback(self, job_id: str, owner: str) -> bool:
        cfg = self.rt.settings.callbacks
        budget = cfg.attempts * (cfg.timeout_s + cfg.backoff_max_s)  # longest a send can take
        now = time.time()
        with self.sessions.begin() as session:
            result = session.execute(
                update(Job)
                .where(Job.job_id == job_id, *self._callback_due(now))
                .values(callback_status=SENDING, lease_owner=owner, lease_expires_at=now + budget)
            )
            return result.rowcount == 1

    def record_callback(self, job_id: str, status: str, attempts: int, error: str | None) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Job)
                .where(Job.job_id == job_id)
                .values(
                    callback_status=status,
                    callback_attempts=attempts,
                    callback_error=error,
                    lease_expires_at=None,
                )
            )
