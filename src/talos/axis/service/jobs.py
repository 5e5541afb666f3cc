"""The job service: accept and look up jobs. The database is the truth; every state change is
one short transaction. Workers take jobs through :mod:`.leases`, finished jobs' callbacks go
through :mod:`.callback_queue`, and :mod:`.views` shows a job as the API answers it."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from talos.axis.service.api_models import GenerateRequest, check_job_id
from talos.axis.service.runtime import Runtime
from talos.axis.service.tables import Job, StepTiming, utcnow
from talos.store import StoreNotFoundError
from talos.web.db import execute_dml
from talos.web.errors import ApiError, not_found, unavailable

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"
STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED)


def request_hash(request: GenerateRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def valid_job_id(job_id: str) -> str:
    try:
        return check_job_id(job_id)
    except ValueError as exc:
        raise ApiError(400, "invalid_job_id", str(exc)) from None


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
            result = execute_dml(
                session,
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
                ),
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

    def completed(self, job_id: str) -> Job:
        """The job, once its results exist: 404 when unknown, 409 ``job_not_completed``
        while it is queued, running or failed."""
        job = self.get(job_id)
        if job.status != COMPLETED:
            raise ApiError(409, "job_not_completed", f"job {job_id} is {job.status}")
        return job

    def result_file(self, job_id: str, name: str) -> bytes:
        """A file of a completed job's results (``lines.json``, ``metrics.jsonl``), as stored;
        404 when the store has none (see :meth:`completed` for the job's own answers)."""
        job = self.completed(job_id)
        try:
            return self.rt.store.get_bytes(f"{job.job_id}/axis/{name}")
        except StoreNotFoundError:
            raise not_found(f"job {job_id} has no {name} in the store") from None

    def recent(self, limit: int) -> list[Job]:
        """The ``limit`` most recently created jobs, newest first (the viewer's job list)."""
        with self.sessions() as session:
            return list(session.scalars(select(Job).order_by(Job.created_at.desc()).limit(limit)))

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
