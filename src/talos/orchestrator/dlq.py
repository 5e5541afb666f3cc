"""The dead-letter queue: jobs whose stage failed for good, kept for analysis and replay.

An entry stores the stage, the reason, the HTTP code, every attempt with its timestamps and
the exact request body of the last attempt. Replaying re-opens the job at the failed stage
with a fresh attempt budget; the stages before it keep their outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from talos.orchestrator.errors import CallbackConflict, JobNotFound
from talos.orchestrator.models import DeadLetterRow, JobRow, StageRow
from talos.orchestrator.retry import Failure
from talos.orchestrator.views import attempt_view


def dead_letter(job: JobRow, stage: StageRow, failure: Failure, now: float) -> DeadLetterRow:
    """The entry for ``stage`` of ``job`` failing with ``failure`` (to be added to a session)."""
    return DeadLetterRow(
        job_id=job.job_id,
        module=stage.module,
        reason=failure.reason,
        http_status=failure.http_status,
        transient=failure.transient,
        attempts=[attempt_view(a) for a in stage.attempt_log],
        request_body=stage.request_body,
        created_at=now,
        replay_count=0,
    )


def dead_letters(session: Session, include_replayed: bool = True) -> Sequence[DeadLetterRow]:
    """All entries, oldest first; only those never replayed unless ``include_replayed``."""
    query = select(DeadLetterRow).order_by(DeadLetterRow.id)
    if not include_replayed:
        query = query.where(DeadLetterRow.replayed_at.is_(None))
    return session.scalars(query).all()


def find_dead_letter(session: Session, entry_id: int) -> DeadLetterRow:
    row = session.get(DeadLetterRow, entry_id)
    if row is None:
        raise JobNotFound(f"dead-letter entry {entry_id}")
    return row


def reopen(session: Session, entry_id: int, now: float) -> DeadLetterRow:
    """Make the entry's job run again from its failed stage.

    The failed stage becomes ready now with a fresh attempt budget (its earlier attempts
    stay in the log); earlier stages and their outputs are kept. Replaying an entry whose
    job is no longer failed raises :class:`CallbackConflict`.
    """
    row = find_dead_letter(session, entry_id)
    job = session.get(JobRow, row.job_id)
    if job is None:
        raise JobNotFound(row.job_id)
    if job.status != "failed":
        raise CallbackConflict(f"job {job.job_id} is {job.status}, not failed")
    stage = next(s for s in job.stages if s.status == "failed")
    stage.status, stage.next_attempt_at, stage.finished_at, stage.error = "ready", now, None, None
    stage.attempts = 0
    job.status, job.error, job.current_module, job.updated_at = "running", None, stage.module, now
    row.replayed_at, row.replay_count = now, row.replay_count + 1
    return row
