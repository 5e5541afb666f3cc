"""The shot spec (cut_spec.json) and the checks a source video must pass before tracing.

Only the fields AXIS uses are modelled; others are kept and passed on as the run's ``shot``.
Every failure is a 422 :class:`ApiError` (well-formed request, unprocessable content).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from talos.axis.errors import InputError
from talos.axis.io.video import FrameSource
from talos.config import Settings
from talos.contracts.cut_spec import validate_cut_spec
from talos.contracts.documents import SchemaError
from talos.media import VideoInfo
from talos.web.errors import unprocessable

ASPECT_TOLERANCE = 0.02  # relative difference of width/height tolerated between shot and video


class Resolution(BaseModel):
    width: int = Field(..., ge=1)
    height: int = Field(..., ge=1)


class CutSpec(BaseModel):
    """The parts of PRISM's cut_spec.json that AXIS reads."""

    model_config = ConfigDict(extra="allow")

    version: str | None = None
    fps: float | None = Field(None, gt=0)
    frame_range: tuple[int, int] | None = None
    resolution: Resolution | None = None
    camera: dict[str, Any] | None = None
    layers: list[str] | None = None
    style: str | None = None

    @model_validator(mode="after")
    def _range_ordered(self) -> CutSpec:
        if self.frame_range is not None:
            first, last = self.frame_range
            if first < 0 or last < first:
                raise ValueError(f"frame_range {list(self.frame_range)} must be 0 <= first <= last")
        return self


def parse_cut_spec(data: bytes) -> CutSpec:
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise unprocessable("invalid_cut_spec", f"cut spec is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise unprocessable("invalid_cut_spec", "cut spec must be a JSON object")
    try:
        validate_cut_spec(raw, "cut spec")  # the schema PRISM publishes
    except SchemaError as exc:
        raise unprocessable("invalid_cut_spec", str(exc)) from None
    try:
        return CutSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "cut spec"
        message = first["msg"].removeprefix("Value error, ")
        raise unprocessable("invalid_cut_spec", f"cut spec {where}: {message}") from None


def inspect_video(path: Path, settings: Settings) -> VideoInfo:
    """Open the video and check it against ``service.limits``; its :class:`VideoInfo`."""
    limits = settings.service.limits
    size = path.stat().st_size
    if size > limits.max_input_bytes:
        raise unprocessable(
            "input_too_large", f"video is {size} bytes, over the limit of {limits.max_input_bytes}"
        )
    try:
        info = FrameSource(path, settings.processing).info
    except InputError as exc:
        raise unprocessable("video_unreadable", str(exc)) from None
    if info.width > limits.max_width or info.height > limits.max_height:
        raise unprocessable(
            "input_too_large",
            f"video is {info.width}x{info.height}, over the limit of "
            f"{limits.max_width}x{limits.max_height}",
        )
    if info.duration is not None and info.duration > limits.max_duration_s:
        raise unprocessable(
            "input_too_large",
            f"video lasts {info.duration:.1f} s, over the limit of {limits.max_duration_s} s",
        )
    if info.frame_count is not None and info.frame_count > limits.max_frames:
        raise unprocessable(
            "input_too_large",
            f"video has {info.frame_count} frames, over the limit of {limits.max_frames}",
        )
    if info.frame_count == 0 or (info.duration is not None and info.duration <= 0):
        raise unprocessable("no_frames", "video has no frames")
    return info


def check_shot(shot: CutSpec, info: VideoInfo) -> None:
    """422 when the shot spec cannot describe this video (aspect ratio, frame range)."""
    if shot.resolution is not None:
        shot_aspect = shot.resolution.width / shot.resolution.height
        video_aspect = info.width / info.height
        if abs(shot_aspect - video_aspect) > ASPECT_TOLERANCE * video_aspect:
            raise unprocessable(
                "shot_inconsistent",
                f"shot resolution {shot.resolution.width}x{shot.resolution.height} does not "
                f"match the video's aspect ratio ({info.width}x{info.height})",
            )
    if shot.frame_range is not None and info.frame_count:
        last = shot.frame_range[1]
        if last >= info.frame_count:
            raise unprocessable(
                "shot_inconsistent",
                f"shot frame_range ends at frame {last} but the video has "
                f"{info.frame_count} frames",
            )


def shot_processing(shot: CutSpec, info: VideoInfo) -> dict[str, Any]:
    """Processing overrides implied by the shot: its frame range as start/end times."""
    if shot.frame_range is None or not info.fps:
        return {}
    first, last = shot.frame_range
    return {"start": first / info.fps, "end": (last + 1) / info.fps}
