"""Jobs: create one (``POST /jobs``, 202), read one, list them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.exc import IntegrityError

from talos.calllog import record_call
from talos.contracts.bounds import DB_INT_MAX
from talos.orchestrator.deps import OrchestratorDep, SettingsDep
from talos.orchestrator.routes.errors import engine_errors
from talos.orchestrator.schemas import JobCreate
from talos.web.errors import conflict

router = APIRouter(tags=["jobs"])


@router.post("/jobs", status_code=202)
def create_job(
    body: JobCreate, response: Response, engine: OrchestratorDep, settings: SettingsDep
) -> dict[str, Any]:
    payload = body.model_dump(exclude_none=True, exclude={"job_id"})
    if body.job_id is not None and engine.job_exists(body.job_id):
        raise conflict(f"job {body.job_id} exists")
    if body.edit is not None:
        with engine_errors(f"job: {body.edit.base_job_id}"):
            lines = engine.lines_url_of(body.edit.base_job_id)
        if not lines:
            raise conflict(f"job {body.edit.base_job_id} has no lines.json yet")
        payload["lines_data_url"] = lines
    try:
        job_id = engine.create_job(body.kind, payload, body.job_id)
    except IntegrityError:  # a concurrent POST with the same job_id won the race
        raise conflict(f"job {body.job_id} exists") from None
    record_call(settings.tracing.call_log, "user", "orchestrator", "POST", "/jobs", 202, job_id)
    response.headers["Location"] = f"/jobs/{job_id}"
    view = engine.get_job(job_id)
    return {"job_id": job_id, "status": "pending", "kind": body.kind,
            "stages": [s["module"] for s in view["stages"]]}  # fmt: skip


@router.get("/jobs/{job_id}")
def get_job(job_id: str, engine: OrchestratorDep) -> Any:
    with engine_errors(f"job: {job_id}"):
        return engine.get_job(job_id)


@router.get("/jobs")
def list_jobs(
    engine: OrchestratorDep,
    status: str | None = Query(None, pattern="^(pending|running|completed|failed)$"),
    kind: str | None = Query(None, pattern="^(generate|recolor|edit)$"),
    module: str | None = Query(None, pattern="^(prism|axis|axis_edit|chroma)$"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=DB_INT_MAX),
) -> dict[str, Any]:
    jobs = engine.list_jobs(status, kind, module, limit, offset)
    return {"jobs": jobs, "count": len(jobs)}
