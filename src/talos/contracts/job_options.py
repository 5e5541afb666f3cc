"""The per-job processing options AXIS accepts (``POST /generate`` ``options``), which the
Orchestrator passes through from ``POST /jobs``: both validate them with this one model, so a
bad value (``fps: Infinity``, ``every: 0``) is refused when the job is submitted, not when a
worker runs it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictBool, model_validator

from talos.contracts.bounds import FPS_MAX, FRAME_MAX, SECONDS_MAX, RequestBody

# strict: a JSON true/false or "5" is not a number here, as the schema says (lax pydantic read
# false as 0.0 and 0 as false).
Seconds = Annotated[float, Field(allow_inf_nan=False, le=SECONDS_MAX, strict=True)]


class JobOptions(RequestBody):
    """Per-job overrides of the processing settings."""

    max_frames: int | None = Field(
        None, strict=True, ge=1, le=FRAME_MAX, description="Stop after N frames."
    )
    every: int | None = Field(
        None, strict=True, ge=1, le=FRAME_MAX, description="Keep every N-th frame."
    )
    fps: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=FPS_MAX,
        allow_inf_nan=False,
        description="Resample to this frame rate.",
    )
    start: Seconds | None = Field(None, ge=0, description="Start time, s.")
    end: Seconds | None = Field(None, gt=0, description="End time, s.")
    width: int | None = Field(
        None, strict=True, ge=16, le=7680, description="Processing width, px."
    )
    write_png: StrictBool | None = Field(None, description="Also write frames/NNNNNN.png.")

    @model_validator(mode="after")
    def _end_after_start(self) -> JobOptions:
        if self.end is not None and self.end <= (self.start or 0.0):
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start or 0})")
        return self

    def processing_overrides(self) -> dict[str, Any]:
        fields = ("max_frames", "every", "fps", "start", "end", "width")
        return {name: getattr(self, name) for name in fields if getattr(self, name) is not None}
