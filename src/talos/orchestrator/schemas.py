"""Request bodies of the Orchestrator API."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from talos.contracts.bounds import DbInt, FiniteFloat, FrameIndex, Point, Points, RequestBody
from talos.contracts.job_options import JobOptions
from talos.contracts.patterns import JOB_ID_PATTERN, STYLE_PATTERN

URL_SCHEMES = ("file", "s3", "http", "https")
_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://\S+$")


def check_url(value: str | None) -> str | None:
    """``value`` if it is an absolute URL with a scheme TALOS modules read, else ValueError."""
    if value is None:
        return None
    match = _URL.match(value)
    if not match:
        raise ValueError(f"not an absolute URL: {value!r}")
    if match.group(1).lower() not in URL_SCHEMES:
        raise ValueError(
            f"unsupported URL scheme {match.group(1)!r} (use {', '.join(URL_SCHEMES)})"
        )
    return value


class EditSpec(RequestBody):
    """Use case 3: change one stroke of one frame of an earlier job, then re-render that frame."""

    base_job_id: str = Field(
        ..., pattern=JOB_ID_PATTERN, description="The job whose lines to edit."
    )
    frame: FrameIndex
    stroke_id: DbInt
    delta_curvature: FiniteFloat | None = Field(None, ge=-10, le=10)
    delta_pressure: FiniteFloat | None = Field(None, ge=-1, le=1)
    translate: Point | None = None
    control_points: Points | None = None

    @model_validator(mode="after")
    def _something_to_do(self) -> EditSpec:
        names = ("delta_curvature", "delta_pressure", "translate", "control_points")
        if all(getattr(self, n) is None for n in names):
            raise ValueError(f"give at least one of {', '.join(names)}")
        return self


class JobCreate(RequestBody):
    """POST /jobs. The fields given decide the kind of job:

    * ``prompt`` + ``video_source_url`` (+ optional ``cut_spec_url`` to skip PRISM): generate;
    * ``lines_data_url`` + ``style``/``style_profile_url``: recolor (CHROMA only);
    * ``edit``: edit one stroke, re-render that frame.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "slow pan over a city skyline",
                    "style": "ink",
                    "video_source_url": "file:///data/inputs/skyline.mp4",
                }
            ]
        },
    )

    job_id: str | None = Field(None, pattern=JOB_ID_PATTERN)
    prompt: str | None = Field(None, min_length=1, max_length=4000)
    style: str | None = Field(None, pattern=STYLE_PATTERN, description="Style profile name.")
    style_profile_url: str | None = Field(None, description="A style profile JSON by URL.")
    video_source_url: str | None = None
    cut_spec_url: str | None = None
    lines_data_url: str | None = None
    edit: EditSpec | None = None
    options: JobOptions | None = Field(
        None, description="Passed to AXIS as its options (checked here, as AXIS checks them)."
    )

    _urls = field_validator(
        "style_profile_url", "video_source_url", "cut_spec_url", "lines_data_url"
    )(check_url)

    @property
    def kind(self) -> Literal["generate", "recolor", "edit"]:
        if self.edit is not None:
            return "edit"
        if self.lines_data_url is not None:
            return "recolor"
        return "generate"

    @model_validator(mode="after")
    def _complete_for_its_kind(self) -> JobCreate:
        if self.edit is not None:
            if self.lines_data_url or self.video_source_url or self.prompt:
                raise ValueError("an edit job takes edit (+ style), not prompt/video/lines")
        elif self.lines_data_url is not None:
            if self.video_source_url or self.prompt or self.cut_spec_url:
                raise ValueError("a recolor job takes lines_data_url + style, not prompt/video")
            if not (self.style or self.style_profile_url):
                raise ValueError("a recolor job needs style or style_profile_url")
        else:
            if not self.video_source_url:
                raise ValueError("video_source_url is required (or lines_data_url, or edit)")
            if not self.prompt and not self.cut_spec_url:
                raise ValueError("prompt is required (or a ready cut_spec_url)")
        return self


class CallbackBody(BaseModel):
    """POST /callbacks/job-completed, as every module sends it. Extra fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    job_id: str = Field(..., pattern=JOB_ID_PATTERN)
    module_name: str = Field(..., min_length=1, max_length=32)
    status: Literal["completed", "failed"]
    output_url: str | None = None
    error_message: str | None = None
    error_code: str | None = None
    transient: StrictBool = Field(
        False, description="A failure worth retrying (e.g. out of memory)."
    )
    http_status: int | None = Field(None, ge=100, le=599)
