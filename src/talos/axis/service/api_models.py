"""Request and response bodies of the AXIS HTTP API (with OpenAPI examples)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from talos.contracts.bounds import POINTS_MAX, FiniteFloat, Point, Points, RequestBody
from talos.contracts.job_options import JobOptions
from talos.contracts.patterns import JOB_ID_PATTERN

_JOB_ID = re.compile(JOB_ID_PATTERN)


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; all of ours are UTC, and the API says so."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# A timestamp with its time zone (RFC 3339 ``date-time`` requires an offset).
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


def check_job_id(value: str) -> str:
    """``value`` if it is a safe job id (letters, digits, ``_``, ``-``; ≤ 128; no path parts)."""
    if not _JOB_ID.match(value):
        raise ValueError(
            "job_id must be 1-128 letters, digits, '_' or '-', starting with a letter or digit"
        )
    return value


class GenerateRequest(RequestBody):
    """POST /generate."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "job_id": "abc123",
                    "cut_spec_url": "s3://talos/abc123/prism/cut_spec.json",
                    "video_source_url": "s3://talos/abc123/source.mp4",
                    "callback_url": "http://orchestrator:8000/callbacks/job-completed",
                    "options": {"max_frames": 48},
                }
            ]
        },
    )

    job_id: str = Field(..., description="Caller-chosen id; the same id and body is idempotent.")
    video_source_url: str = Field(..., description="file://, s3:// or http(s):// source video.")
    cut_spec_url: str | None = Field(
        None, description="The shot spec (cut_spec.json); default shot from Settings if absent."
    )
    callback_url: str | None = Field(
        None, description="POSTed {job_id, module_name, status, ...} when the job ends."
    )
    options: JobOptions = Field(default_factory=JobOptions)

    _job_id = field_validator("job_id")(check_job_id)

    @field_validator("callback_url")
    @classmethod
    def _callback_is_http(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("callback_url must be an http:// or https:// URL")
        return value


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    job_id: str
    message: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "accepted", "job_id": "abc123", "message": "job queued"}]
        }
    )


class Progress(BaseModel):
    frames_done: int
    frames_total: int | None
    fraction: float | None


class ErrorInfo(BaseModel):
    code: str
    message: str
    http_status: int | None = None


class CallbackInfo(BaseModel):
    url: str | None
    status: str | None
    attempts: int
    error: str | None


class JobStatus(BaseModel):
    """GET /jobs/{job_id}."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job_id": "abc123",
                    "status": "completed",
                    "progress": {"frames_done": 16, "frames_total": 16, "fraction": 1.0},
                    "timings": {
                        "queued_s": 0.2,
                        "run_s": 3.1,
                        "steps_ms": {"edges": 120.5, "vectorize": 300.2},
                    },
                    "attempts": 1,
                    "error": None,
                    "output_url": "s3://talos/abc123/axis/lines.json",
                    "lines_url": "/jobs/abc123/lines.json",
                    "callback": {
                        "url": "http://orchestrator:8000/callbacks/job-completed",
                        "status": "delivered",
                        "attempts": 1,
                        "error": None,
                    },
                    "created_at": "2026-11-26T08:00:00Z",
                    "finished_at": "2026-11-26T08:00:03Z",
                }
            ]
        }
    )

    job_id: str
    status: Literal["queued", "running", "completed", "failed"]
    progress: Progress
    timings: dict[str, Any]
    attempts: int
    error: ErrorInfo | None
    output_url: str | None = Field(None, description="Store URL of lines.json when completed.")
    lines_url: str | None = Field(None, description="The same file over this API.")
    callback: CallbackInfo
    created_at: UtcDatetime
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None


class StrokePatch(RequestBody):
    """PATCH .../strokes/{stroke_id}: any of these; applied in the order listed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"delta_curvature": 0.1, "delta_pressure": -0.2, "translate": [3, 0]}]
        },
    )

    control_points: Points | None = Field(
        None,
        description="Replace the Bézier control points, (3n+1) × 2, px (each within the frame "
        "and service.limits.edit_margin; at most service.limits.max_stroke_points).",
    )
    delta_curvature: FiniteFloat | None = Field(
        None,
        ge=-10,
        le=10,
        description=(
            "Bend, dimensionless: each segment's inner control points move by delta x chord "
            "length along the chord normal (-dy, dx) (image coordinates, y down); the knots "
            "stay put, so a straight segment's |curvature| becomes about 6 x |delta| / chord "
            "length (1/px)."
        ),
    )
    pressure: list[FiniteFloat] | None = Field(
        None,
        max_length=POINTS_MAX,
        description=(
            "Replace the pressure along the stroke: one value per knot (0..1), as many as "
            "the knots after control_points; applied before delta_pressure."
        ),
    )
    delta_pressure: FiniteFloat | None = Field(
        None, ge=-1, le=1, description="Added to every knot's pressure (clipped to 0..1)."
    )
    translate: Point | None = Field(
        None, description="Move by [dx, dy] px (the stroke must stay near the frame)."
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> StrokePatch:
        if all(
            getattr(self, name) is None
            for name in (
                "control_points",
                "delta_curvature",
                "pressure",
                "delta_pressure",
                "translate",
            )
        ):
            raise ValueError(
                "give at least one of control_points, delta_curvature, pressure, "
                "delta_pressure, translate"
            )
        return self


class StrokeNew(RequestBody):
    """POST .../strokes: a new stroke (its stroke_id is assigned)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "control_points": [[10, 10], [20, 5], [30, 5], [40, 10]],
                    "pressure": [0.8, 0.8],
                    "layer": "foreground",
                }
            ]
        },
    )

    control_points: Points = Field(
        ...,
        description="(3n+1) × 2 Bézier chain, px (each within the frame and "
        "service.limits.edit_margin; at most service.limits.max_stroke_points).",
    )
    pressure: list[FiniteFloat] | None = Field(
        None, max_length=POINTS_MAX, description="n+1 values in 0..1; default 1."
    )
    closed: StrictBool = False  # 0 or "yes" refused: the schema says boolean
    layer: str = Field("foreground", max_length=64)
    style_class: str = Field("outline", max_length=64)
    width: FiniteFloat = Field(2.0, gt=0, le=100)


class Revision(BaseModel):
    revision: int
    action: str
    stroke_id: int | None
    author: str
    created_at: UtcDatetime
    change: dict[str, Any]


class EditResult(BaseModel):
    """The frame after an edit; its new ETag is also in the ETag header."""

    job_id: str
    frame: int
    revision: int
    etag: str
    stroke_id: int | None
    data: dict[str, Any] = Field(..., description="The frame's JSON after the edit.")


class ErrorBody(BaseModel):
    code: str = Field(..., examples=["invalid_request"])
    message: str = Field(..., examples=["video_source_url: unsupported scheme 'ftp'"])
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed input (bad URL, unsupported scheme, invalid options)."},
    401: {"description": "X-API-Key missing (only when API keys are configured)."},
    403: {"description": "X-API-Key not accepted."},
    404: {"description": "No such job, frame or stroke."},
    409: {"description": "The job_id exists with a different request."},
    412: {"description": "If-Match does not match the frame's current ETag."},
    413: {"description": "The request body is over http.max_body_bytes."},
    422: {"description": "Well-formed but unprocessable input (video unreadable, limits)."},
    503: {"description": "Temporarily unable (model not loaded, queue full); see Retry-After."},
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for these error statuses."""
    return {
        status: {"model": ErrorResponse, **ERROR_RESPONSES[status]}
        for status in statuses
        if status in ERROR_RESPONSES
    }
