"""Workers' side of the job table: find claimable jobs, claim one with a lease, renew the lease
while working (with progress), finish it. Every write is a compare-and-swap on status and
lease owner, so a worker whose lease ran out (and was taken over) changes nothing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select, update

from talos.axis.service.jobs import COMPLETED, FAILED, QUEUED, RUNNING
from talos.axis.service.runtime import Runtime
from talos.axis.service.tables import Job, StepTiming, as_utc, utcnow
from talos.web.db import execute_dml
from talos.web.errors import ApiError


class Leases:
    """The job table as workers use it."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.sessions = runtime.sessions

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
        return [job_id for job_id, updated in rows if as_utc(updated).timestamp() < cutoff]

    def claim(self, job_id: str, owner: str) -> bool:
        """Take the job if it is queued or its lease expired (compare-and-swap)."""
        now = time.time()
        lease = self.rt.settings.service.lease_s
        with self.sessions.begin() as session:
            result = execute_dml(
                session,
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
                ),
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
            result = execute_dml(
                session,
                update(Job)
                .where(Job.job_id == job_id, Job.lease_owner == owner, Job.status == RUNNING)
                .values(**values),
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
            result = execute_dml(
                session,
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
                ),
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
            result = execute_dml(
                session,
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
                ),
            )
            return result.rowcount == 1
