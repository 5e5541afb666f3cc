"""POST /generate: accept a tracing job (202), idempotent per job_id."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from fastapi import APIRouter, Response

from talos.axis.service.api_models import Accepted, GenerateRequest, error_responses
from talos.axis.service.deps import ExecutorDep, JobsDep, RuntimeDep
from talos.axis.service.executors import Executor
from talos.axis.service.runner import job_settings, prepare
from talos.web.callbacks import check_callback_url
from talos.web.errors import unavailable
from talos.web.inputs import check_url

log = logging.getLogger(__name__)
router = APIRouter(tags=["jobs"])


@router.post(
    "/generate",
    status_code=202,
    response_model=Accepted,
    responses=error_responses(400, 401, 403, 409, 413, 422, 503),
    summary="Trace a video into strokes (asynchronously)",
)
def generate(
    body: GenerateRequest, response: Response, rt: RuntimeDep, jobs: JobsDep, executor: ExecutorDep
) -> Accepted:
    """Queue a job. Inputs given as ``file://`` are checked now (400/422); remote inputs are
    checked by the worker, and a failure is recorded on the job and sent to its callback.
    A ``callback_url`` on a private or loopback address that is not trusted is 422.
    The same request again returns the job as it is, or queues it again if it failed."""
    response.headers["Location"] = f"/jobs/{body.job_id}"
    if rt.model_error:
        raise unavailable("model_unavailable", f"models are not loaded: {rt.model_error}")
    check_callback_url(body.callback_url, rt.settings)
    existing = jobs.find(body.job_id)
    if existing is not None:
        jobs.submit(body)  # 409 when the body differs
        if jobs.requeue_failed(body.job_id):  # the same request again after a failure: retry
            _send(executor, body.job_id)
            return Accepted(job_id=body.job_id, message="job queued again (it had failed)")
        return Accepted(job_id=body.job_id, message=f"job already exists ({existing.status})")
    video = check_url(body.video_source_url, rt.settings, "video_source_url")
    if body.cut_spec_url:
        check_url(body.cut_spec_url, rt.settings, "cut_spec_url")
    if video.scheme == "file":
        rt.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="axis-check-", dir=rt.work_dir) as tmp:
            prepared = prepare(body, rt.settings, Path(tmp))
            job_settings(rt.settings, body, prepared)
    job, created = jobs.submit(body)
    if created:
        _send(executor, job.job_id)
        return Accepted(job_id=job.job_id, message="job queued")
    return Accepted(job_id=job.job_id, message=f"job already exists ({job.status})")


def _send(executor: Executor, job_id: str) -> None:
    try:
        executor.submit(job_id)
    except Exception as exc:  # the job is safe in the database; the sweeper re-sends it
        log.warning("job %s queued but not sent to workers yet: %s", job_id, exc)
