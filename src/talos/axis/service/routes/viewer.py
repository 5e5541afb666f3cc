"""What the web viewer reads beside the job routes: the job list, a job's per-frame metrics
(``metrics.jsonl``) and its source video (for strokes drawn over the picture)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from talos.axis.service.api_models import GenerateRequest, JobStatus, error_responses
from talos.axis.service.deps import JobsDep, RuntimeDep
from talos.axis.service.views import status_view
from talos.web.errors import ApiError, not_found
from talos.web.inputs import check_url

router = APIRouter(tags=["viewer"])


@router.get("/jobs", response_model=list[JobStatus], responses=error_responses(401, 403))
def list_jobs(
    jobs: JobsDep, limit: Annotated[int, Query(ge=1, le=500, description="At most.")] = 50
) -> list[JobStatus]:
    """The most recent jobs, newest first, as ``GET /jobs/{job_id}`` shows each."""
    return [status_view(jobs.sessions, job) for job in jobs.recent(limit)]


@router.get(
    "/jobs/{job_id}/metrics.jsonl",
    responses={200: {"content": {"application/x-ndjson": {}}}, **error_responses(404, 409)},
)
def metrics(job_id: str, jobs: JobsDep) -> Response:
    """The run's per-step and per-frame records (``metrics.jsonl``, one JSON object a line)."""
    data = jobs.result_file(job_id, "metrics.jsonl")
    return Response(data, media_type="application/x-ndjson")


@router.get(
    "/jobs/{job_id}/source",
    responses={200: {"content": {"video/*": {}}}, **error_responses(404)},
)
def source_video(job_id: str, jobs: JobsDep, rt: RuntimeDep) -> FileResponse:
    """The job's source video, when it is a ``file://`` input this service may read (checked
    as ``POST /generate`` checks it); byte ranges work, so the browser can seek. Sources on
    S3 or HTTP are not proxied: 404, and the viewer draws the strokes alone."""
    job = jobs.get(job_id)
    url = GenerateRequest.model_validate(job.request).video_source_url
    if not url.startswith("file:"):
        raise not_found(f"job {job_id}'s source is not a local file; the viewer cannot show it")
    try:
        path = check_url(url, rt.settings, "video_source_url").path
    except ApiError:
        path = None
    if path is None or not path.is_file():
        raise not_found(f"job {job_id}'s source video is not readable here")
    return FileResponse(path)
