"""Stroke edits (use case 3): PATCH/DELETE/POST strokes, revisions, restore.

Every edit answers the frame after it with its new ETag; send the ETag back as ``If-Match``
to make the edit conditional (412 when someone else changed the frame first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response

from talos.axis.service.api_models import (
    EditResult,
    Revision,
    StrokeNew,
    StrokePatch,
    error_responses,
)
from talos.axis.service.deps import EditorDep
from talos.axis.service.edits import FrameState
from talos.contracts.bounds import DB_INT_MAX, FRAME_MAX
from talos.web.limits import ECHO_MAX

router = APIRouter(prefix="/jobs/{job_id}/frames/{n}", tags=["edits"])
FrameNo = Annotated[int, Path(ge=0, le=FRAME_MAX, description="Frame index.")]
StrokeId = Annotated[int, Path(ge=0, le=DB_INT_MAX, description="The stroke's stroke_id.")]
IfMatch = Annotated[
    str | None,
    Header(
        description="The frame's ETag; 412 if it has changed since (an error repeats at most "
        f"{ECHO_MAX} characters of it)."
    ),
]
Author = Annotated[str, Header(max_length=128, description="Who edits (stored).")]
ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422)


@dataclass(frozen=True)
class EditHeaders:
    """What every edit carries in its headers: the ETag it expects and who edits."""

    if_match: str | None
    author: str


def edit_headers(if_match: IfMatch = None, x_author: Author = "api") -> EditHeaders:
    """The ``If-Match`` and ``X-Author`` headers of an edit request."""
    return EditHeaders(if_match, x_author)


Headers = Annotated[EditHeaders, Depends(edit_headers)]


def _result(
    job_id: str, n: int, state: FrameState, stroke_id: int | None, response: Response
) -> EditResult:
    response.headers["ETag"] = state.etag
    return EditResult(
        job_id=job_id,
        frame=n,
        revision=state.revision,
        etag=state.etag,
        stroke_id=stroke_id,
        data=state.data,
    )


@router.patch("/strokes/{stroke_id}", response_model=EditResult, responses=ERRORS)
def patch_stroke(
    job_id: str,
    n: FrameNo,
    stroke_id: StrokeId,
    body: StrokePatch,
    editor: EditorDep,
    response: Response,
    headers: Headers,
) -> EditResult:
    """Change one stroke: bend (delta_curvature), thicken/thin (delta_pressure), move
    (translate) or replace its control points; the frame's JSON and SVG are re-rendered."""
    state, sid = editor.patch(job_id, n, stroke_id, body, headers.author, headers.if_match)
    return _result(job_id, n, state, sid, response)


@router.delete("/strokes/{stroke_id}", response_model=EditResult, responses=ERRORS)
def delete_stroke(
    job_id: str,
    n: FrameNo,
    stroke_id: StrokeId,
    editor: EditorDep,
    response: Response,
    headers: Headers,
) -> EditResult:
    state, sid = editor.delete(job_id, n, stroke_id, headers.author, headers.if_match)
    return _result(job_id, n, state, sid, response)


@router.post("/strokes", response_model=EditResult, status_code=201, responses=ERRORS)
def add_stroke(
    job_id: str,
    n: FrameNo,
    body: StrokeNew,
    editor: EditorDep,
    response: Response,
    headers: Headers,
) -> EditResult:
    """Add a stroke; its new stroke_id is in the answer."""
    state, sid = editor.add(job_id, n, body, headers.author, headers.if_match)
    return _result(job_id, n, state, sid, response)


@router.get("/revisions", response_model=list[Revision], responses=ERRORS)
def list_revisions(job_id: str, n: FrameNo, editor: EditorDep) -> list[Revision]:
    """Every stored revision of the frame, oldest first (0 = as traced, once edited)."""
    return [
        Revision(
            revision=r.revision,
            action=r.action,
            stroke_id=r.stroke_id,
            author=r.author,
            created_at=r.created_at,
            change=r.change,
        )
        for r in editor.revisions(job_id, n)
    ]


@router.post("/revisions/{rev}/restore", response_model=EditResult, responses=ERRORS)
def restore_revision(
    job_id: str,
    n: FrameNo,
    rev: Annotated[int, Path(ge=0, le=DB_INT_MAX, description="The revision to restore.")],
    editor: EditorDep,
    response: Response,
    headers: Headers,
) -> EditResult:
    """Make revision ``rev`` current again (itself stored as a new revision: nothing is lost)."""
    state, sid = editor.restore(job_id, n, rev, headers.author, headers.if_match)
    return _result(job_id, n, state, sid, response)
