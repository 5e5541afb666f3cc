"""The finished jobs' callbacks, claimed like jobs so that exactly one process sends each:
the worker that finished the job, or a sweeper when that worker died first."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select, update

from talos.axis.service.jobs import COMPLETED, FAILED
from talos.axis.service.runtime import Runtime
from talos.axis.service.tables import Job
from talos.web.db import execute_dml

SENDING = "sending"  # callback_status while a process is delivering it


class CallbackQueue:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.sessions = runtime.sessions

    def _due(self, now: float) -> tuple[ColumnElement[bool], ...]:
        return (
            Job.status.in_((COMPLETED, FAILED)),
            Job.callback_url.is_not(None),
            or_(
                Job.callback_status.is_(None),
                (Job.callback_status == SENDING) & (Job.lease_expires_at < now),
            ),
        )

    def pending(self, limit: int = 20) -> Sequence[str]:
        """Finished jobs whose callback was never sent (or whose sender died)."""
        with self.sessions() as session:
            return session.scalars(
                select(Job.job_id).where(*self._due(time.time())).limit(limit)
            ).all()

    def claim(self, job_id: str, owner: str) -> bool:
        """Take the job's callback for ``owner`` to send (compare-and-swap); False if another
        process has it or it is not due."""
        cfg = self.rt.settings.callbacks
        budget = cfg.attempts * (cfg.timeout_s + cfg.backoff_max_s)  # longest a send can take
        now = time.time()
        with self.sessions.begin() as session:
            result = execute_dml(
                session,
                update(Job)
                .where(Job.job_id == job_id, *self._due(now))
                .values(callback_status=SENDING, lease_owner=owner, lease_expires_at=now + budget),
            )
            return result.rowcount == 1

    def record(self, job_id: str, status: str, attempts: int, error: str | None) -> None:
        """The outcome of sending the callback: delivered, failed or none (no URL)."""
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
