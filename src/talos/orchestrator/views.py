"""JSON views of the Orchestrator's rows, as the API returns them (times in ISO 8601 UTC)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from talos.orchestrator.models import AttemptRow, DeadLetterRow, JobRow, StageRow
from talos.web.callbacks import redact


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")


def attempt_view(attempt: AttemptRow) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started": _iso(attempt.started_at),
        "finished": _iso(attempt.finished_at),
        "outcome": attempt.outcome,
        "http_status": attempt.http_status,
        "error": attempt.error,
    }


def stage_view(stage: StageRow) -> dict[str, Any]:
    return {
        "module": stage.module,
        "status": stage.status,
        "attempts": len(stage.attempt_log),
        "started": _iso(stage.started_at),
        "finished": _iso(stage.finished_at),
        "output_url": stage.output_url,
        "error": stage.error,
        "next_attempt_at": _iso(stage.next_attempt_at) if stage.status == "retry_wait" else None,
        "attempt_log": [attempt_view(a) for a in stage.attempt_log],
    }


def job_view(job: JobRow) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "status": job.status,
        "current_module": job.current_module,
        "stages": [stage_view(s) for s in job.stages],
        "details": {
            "request": job.request,
            "outputs": job.outputs,
            "final_url": job.outputs.get("final_url"),
            "error": job.error,
            "created": _iso(job.created_at),
            "updated": _iso(job.updated_at),
        },
    }


def dead_letter_view(row: DeadLetterRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "job_id": row.job_id,
        "stage": row.module,
        "reason": row.reason,
        "http_status": row.http_status,
        "transient": row.transient,
        "attempts": row.attempts,
        "request_body": _without_key(row.request_body),
        "created": _iso(row.created_at),
        "replayed_at": _iso(row.replayed_at),
        "replay_count": row.replay_count,
    }


def _without_key(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stage's request as sent, its callback URL's signing key shown as ``***``: a
    reader of the queue needs no key to forge that job's callback."""
    if body is None or not isinstance(body.get("callback_url"), str):
        return body
    return {**body, "callback_url": redact(body["callback_url"])}
