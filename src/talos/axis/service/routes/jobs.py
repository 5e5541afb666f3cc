"""Job status and results: GET /jobs/{job_id}, lines.json, frames as JSON, SVG and PNG."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from talos.axis.io.frames import dumps
from talos.axis.render.png import frame_png
from talos.axis.service.api_models import JobStatus, error_responses
from talos.axis.service.deps import EditorDep, JobsDep, RuntimeDep
from talos.axis.service.views import status_view
from talos.contracts.bounds import FRAME_MAX
from talos.store import StoreNotFoundError
from talos.web.errors import not_found

router = APIRouter(prefix="/jobs/{job_id}", tags=["jobs"])
FrameNo = Annotated[int, Path(ge=0, le=FRAME_MAX, description="Frame index.")]


@router.get("", response_model=JobStatus, responses=error_responses(400, 401, 403, 404))
def job_status(job_id: str, jobs: JobsDep) -> JobStatus:
    """Status (queued, running, completed, failed), progress, timings, error, output URL."""
    return status_view(jobs.sessions, jobs.get(job_id))


@router.get(
    "/lines.json",
    responses={200: {"content": {"application/json": {}}}, **error_responses(404, 409)},
)
def lines(job_id: str, jobs: JobsDep) -> Response:
    """The job's manifest (BRIEF §7 ``lines.json``)."""
    return Response(jobs.result_file(job_id, "lines.json"), media_type="application/json")


@router.get("/frames/{n}.json", responses=error_responses(404, 409))
def frame_json(job_id: str, n: FrameNo, editor: EditorDep) -> Response:
    """One frame's strokes; the ETag header is its revision (send it back as If-Match)."""
    state = editor.current(job_id, n)
    return Response(dumps(state.data), media_type="application/json", headers={"ETag": state.etag})


@router.get(
    "/frames/{n}.svg",
    responses={200: {"content": {"image/svg+xml": {}}}, **error_responses(404, 409)},
)
def frame_svg(job_id: str, n: FrameNo, editor: EditorDep, rt: RuntimeDep) -> Response:
    state = editor.current(job_id, n)
    try:
        data = rt.store.get_bytes(editor.key(job_id, n, "svg"))
    except StoreNotFoundError:
        raise not_found(f"job {job_id} has no SVG for frame {n}") from None
    return Response(data, media_type="image/svg+xml", headers={"ETag": state.etag})


@router.get(
    "/frames/{n}.png",
    responses={200: {"content": {"image/png": {}}}, **error_responses(404, 409)},
)
def frame_png_file(job_id: str, n: FrameNo, editor: EditorDep, rt: RuntimeDep) -> Response:
    """The frame as PNG: the stored one if the job wrote PNGs, else rendered now."""
    state = editor.current(job_id, n)
    try:
        data = rt.store.get_bytes(editor.key(job_id, n, "png"))
    except StoreNotFoundError:
        data = frame_png(state.data)
    return Response(data, media_type="image/png", headers={"ETag": state.etag})
