"""``GET /jobs/{job_id}/export/{format}``: the job's shot as Lottie, animated SVG or a
Blender Grease Pencil script, streamed; the frames as they are now, edits included."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from talos.axis.errors import InputError
from talos.axis.export import FORMATS, export_chunks
from talos.axis.export.resample import DEFAULT_TOLERANCE
from talos.axis.export.shot import build_shot
from talos.axis.io.manifest import MANIFEST_FILE
from talos.axis.service.api_models import error_responses
from talos.axis.service.deps import EditorDep, JobsDep
from talos.web.errors import ApiError, not_found, unprocessable

router = APIRouter(prefix="/jobs/{job_id}", tags=["export"])
Tolerance = Annotated[
    float,
    Query(
        ge=0, le=100, description="Key reduction: px that interpolation may stray (Lottie, SVG)."
    ),
]


@router.get(
    "/export/{fmt}",
    responses={
        200: {"content": {media: {} for _, media in FORMATS.values()}},
        **error_responses(400, 404, 409, 422),
    },
)
def export(
    job_id: str,
    fmt: str,
    editor: EditorDep,
    jobs: JobsDep,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> StreamingResponse:
    """The shot as ``lottie`` (bodymovin JSON), ``svg-anim`` (one SVG that plays) or
    ``grease-pencil`` (a Python script for ``blender -b --python``), built from lines.json
    and every frame as edited. 404 for an unknown format, 409 while the job is not
    completed, 422 when its stored results are not an export-able trace."""
    if fmt not in FORMATS:
        raise not_found(f"no export format {fmt!r}; known: {', '.join(FORMATS)}")
    try:
        manifest = json.loads(jobs.result_file(job_id, MANIFEST_FILE))
    except ValueError:
        raise unprocessable("export_failed", f"job {job_id}: {MANIFEST_FILE} is not JSON") from None

    def frame(entry: Any) -> dict[str, Any]:
        try:
            return editor.current(job_id, int(entry["index"])).data
        except ApiError as exc:
            raise InputError(f"{entry.get('path')}: {exc.message}") from None

    try:
        shot = build_shot(manifest, frame, f"job {job_id} {MANIFEST_FILE}")
    except InputError as exc:
        raise unprocessable("export_failed", str(exc)) from None
    suffix, media = FORMATS[fmt]
    return StreamingResponse(
        export_chunks(shot, fmt, tolerance),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{job_id}-{fmt}{suffix}"'},
    )
