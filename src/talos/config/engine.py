"""Settings of the AXIS engine: frame sampling, line extraction, vectorizing, depth, flow,
tracking, camera, the step list and the files written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from talos.config.base import NonNegFloat, NonNegInt, PosFloat, Section


class ProcessingSettings(Section):
    """Processing resolution and frame sampling."""

    width: NonNegInt = Field(0, description="Processing width in px; 0 keeps the source width.")
    height: NonNegInt = Field(
        0, description="Processing height in px; 0 derives it from width and the aspect ratio."
    )
    every: Annotated[int, Field(ge=1)] = Field(1, description="Keep every N-th decoded frame.")
    fps: NonNegFloat = Field(0.0, description="Resample to this frame rate; 0 keeps the source.")
    start: NonNegFloat = Field(0.0, description="Start time in seconds.")
    end: NonNegFloat | None = Field(None, description="End time in seconds; null = to the end.")
    max_frames: NonNegInt = Field(0, description="Stop after N frames; 0 = no limit.")
    sequence_fps: PosFloat = Field(24.0, description="Frame rate assumed for image sequences.")
    workers: NonNegInt = Field(
        0, description="Processes for frame-parallel steps; 0 = one per CPU core, 1 = in-process."
    )
    decode_ahead: NonNegInt = Field(
        2, description="Frames decoded ahead in a background thread; 0 = decode in line."
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> ProcessingSettings:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")
        return self


class EdgeSettings(Section):
    """Line-map extraction."""

    strategy: str = Field(
        "auto",
        description="Edge/line-map strategy: auto, boundaries, xdog, canny, hed, onnx.",
    )
    blur_sigma: NonNegFloat = Field(1.0, description="Gaussian pre-blur sigma in px.")
    low_threshold: NonNegFloat = Field(50.0, description="Canny hysteresis low threshold.")
    high_threshold: NonNegFloat = Field(150.0, description="Canny hysteresis high threshold.")
    xdog_sigma: PosFloat = Field(1.2, description="XDoG inner Gaussian sigma in px.")
    xdog_k: Annotated[float, Field(gt=1)] = Field(1.6, description="XDoG sigma ratio.")
    xdog_tau: NonNegFloat = Field(0.98, description="XDoG weight of the outer Gaussian.")
    xdog_epsilon: float = Field(-0.02, description="XDoG threshold on the DoG response.")
    xdog_phi: PosFloat = Field(200.0, description="XDoG soft-threshold sharpness.")
    xdog_tone_lines: bool = Field(
        True,
        description="xdog: also trace tone lines, the crisp edges between flat fills away "
        "from the ink (cel shadow shapes, colour separations).",
    )
    xdog_hollow_lines: bool = Field(
        True,
        description="xdog: fill the dark core of lines wider than XDoG's band (about 4 px), "
        "which it otherwise draws as their two flanks.",
    )
    model_path: Path | None = Field(
        None, description="ONNX line-art model (onnx; for hed, instead of the installed one)."
    )
    # boundaries: colour boundaries of footage, texture suppressed (strategies/edges.py)
    boundary_width: NonNegInt = Field(
        640,
        description="boundaries: the least working width in px (texture scale); with "
        "boundary_scale 0, the working width itself (0 = full size).",
    )
    boundary_scale: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="boundaries: working width as a share of the frame's, when wider than "
        "boundary_width (1 = full size).",
    )
    boundary_sigma: NonNegFloat = Field(
        1.0, description="boundaries: Gaussian smoothing at the working width, px."
    )
    boundary_chroma: NonNegFloat = Field(
        4.0, description="boundaries: weight of colour (a, b) against lightness (L)."
    )
    boundary_inhibition: NonNegFloat = Field(
        2.0, description="boundaries: texture suppression, x the quieter side's mean gradient."
    )
    boundary_surround: PosFloat = Field(
        6.0, description="boundaries: surround Gaussian sigma at the working width, px."
    )
    boundary_low: NonNegFloat = Field(
        0.012, description="boundaries: hysteresis low threshold (Lab/255 per working px)."
    )
    boundary_high: NonNegFloat = Field(
        0.07, description="boundaries: hysteresis high threshold (Lab/255 per working px)."
    )
    boundary_contour: NonNegFloat = Field(
        0.03,
        description="boundaries: a weak boundary is also drawn where it runs on as one "
        "contour this strong (the inhibited gradient averaged along the line, Lab/255 per "
        "working px) and is in focus; 0 = off.",
    )
    boundary_creases: bool = Field(
        True,
        description="boundaries: also trace thin dark lines inside regions (creases, folds, "
        "drawn ink), which have no colour step to find.",
    )
    boundary_crease_low: NonNegFloat = Field(
        0.9,
        description="boundaries: crease hysteresis low threshold (a line's depth over the "
        "mean gray slope around it, working px).",
    )
    boundary_crease_high: NonNegFloat = Field(
        2.4, description="boundaries: crease hysteresis high threshold (as the low one)."
    )

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> EdgeSettings:
        if self.high_threshold < self.low_threshold:
            raise ValueError(
                f"high_threshold ({self.high_threshold}) must be >= low_threshold "
                f"({self.low_threshold})"
            )
        if self.boundary_high < self.boundary_low:
            raise ValueError(
                f"boundary_high ({self.boundary_high}) must be >= boundary_low "
                f"({self.boundary_low})"
            )
        if self.boundary_crease_high < self.boundary_crease_low:
            raise ValueError(
                f"boundary_crease_high ({self.boundary_crease_high}) must be >= "
                f"boundary_crease_low ({self.boundary_crease_low})"
            )
        return self

    # Temporal hysteresis (the `hysteresis` step): how weak a line seen last frame may get.
    temporal_low: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5,
        description="A line seen last frame survives down to this share of the low threshold "
        "(boundaries, canny); 0 = no temporal hysteresis.",
    )

    # Strategy hed (HED, `axis models install hed`): thresholds on the probability after NMS.
    hed_low: Annotated[float, Field(ge=0, le=1)] = Field(
        0.6, description="Strategy hed: hysteresis low threshold on the edge probability."
    )
    hed_high: Annotated[float, Field(ge=0, le=1)] = Field(
        0.8, description="Strategy hed: hysteresis high threshold on the edge probability."
    )
    hed_max_width: NonNegInt = Field(
        0,
        description="Strategy hed: run the network at most this wide (px), then upsample its "
        "probability; 0 = full size.",
    )

    @model_validator(mode="after")
    def _hed_thresholds_ordered(self) -> EdgeSettings:
        if self.hed_high < self.hed_low:
            raise ValueError(f"hed_high ({self.hed_high}) must be >= hed_low ({self.hed_low})")
        return self


class ModelsSettings(Section):
    """Locally installed models (``axis models install NAME``)."""

    dir: Path = Field(
        Path("~/.cache/talos/models"),
        description="Folder of installed models; ~ is expanded when used.",
    )


class VectorizeSettings(Section):
    """Line map to strokes."""

    strategy: str = Field("centerline", description="Vectorizer strategy: centerline, contours.")
    tolerance: PosFloat = Field(1.0, description="Max deviation of the fitted curve in px.")
    min_length: NonNegFloat = Field(8.0, description="Drop strokes shorter than this, px.")
    fill_holes: NonNegFloat = Field(
        3.0, description="Fill enclosed background slivers at most this wide (px) before thinning."
    )
    spur_length: NonNegFloat = Field(6.0, description="Prune side branches shorter than this, px.")
    gap: NonNegFloat = Field(
        3.0, description="Bridge facing stroke ends up to this far apart (in x and in y), px."
    )
    attach_gap: NonNegFloat = Field(
        3.0, description="Join a stroke end to a line it runs into up to this far ahead, px."
    )
    join_angle: Annotated[float, Field(ge=0, le=90)] = Field(
        45.0, description="At a junction, join two branches that turn by at most this, degrees."
    )
    corner_angle: Annotated[float, Field(gt=0, le=180)] = Field(
        60.0, description="A turn sharper than this (degrees over ~4 px) is a corner knot."
    )
    smoothing: Annotated[int, Field(ge=1, le=15)] = Field(
        5, description="Moving-average window over centerline pixels before fitting, points."
    )
    shapes: bool = Field(True, description="Detect circles and triangles as primitives.")
    circle_residual: PosFloat = Field(
        0.02, description="Circle when every point is within max(1 px, this x radius)."
    )
    triangle_residual: PosFloat = Field(
        0.01, description="Triangle when 90% of points are within max(1 px, this x perimeter)."
    )
    detail_length: NonNegFloat = Field(
        40.0, description="Strokes shorter than this (px) are style_class detail."
    )


class ModelSettings(Section):
    """A strategy that may be backed by a learned model."""

    strategy: str = "none"
    model_path: Path | None = None


class DepthSettings(ModelSettings):
    strategy: str = Field("planar", description="Depth strategy: planar, sequence, onnx.")
    planar_depth: PosFloat = Field(10.0, description="Constant depth of the planar strategy.")
    sequence_path: Path | None = Field(
        None,
        description="Strategy sequence: a folder of per-frame depth files (16-bit PNG, .npy, "
        ".exr; sorted by name, one per decoded frame) or one .npy of shape (N, H, W).",
    )
    scale: PosFloat = Field(
        1.0, description="Multiplier from stored depth values to scene units (e.g. 0.001 for mm)."
    )
    near: PosFloat = Field(1.0, description="Strategy onnx: depth of the nearest pixel.")
    far: PosFloat = Field(100.0, description="Strategy onnx: depth of the farthest pixel.")

    @model_validator(mode="after")
    def _sequence_and_range(self) -> DepthSettings:
        if self.strategy == "sequence" and self.sequence_path is None:
            raise ValueError("depth.sequence_path: required when depth.strategy is sequence")
        if self.far <= self.near:
            raise ValueError(f"depth.far ({self.far}) must be greater than near ({self.near})")
        return self


class FlowSettings(ModelSettings):
    strategy: str = Field("dis", description="Optical flow strategy: dis, farneback, onnx.")
    max_width: NonNegInt = Field(
        480, description="Estimate flow on frames downscaled to this width; 0 = full size."
    )
    dis_preset: Literal["ultrafast", "fast", "medium"] = Field(
        "fast", description="OpenCV DIS preset."
    )


class TrackingSettings(Section):
    """Stable stroke ids across frames (StrokeTracker) and temporal smoothing."""

    enabled: bool = Field(
        True, description="Stable ids, smoothing, temporal hysteresis; off = a per-frame trace."
    )
    gate_px: PosFloat = Field(
        12.0, description="Largest mean chamfer distance, px, for a stroke to keep an id."
    )
    max_lost: NonNegInt = Field(
        5, description="Frames a lost track is kept (occlusion) before its id dies."
    )
    cut_threshold: NonNegFloat = Field(
        0.3, description="Colour-histogram distance (0..1) between frames that is a cut; 0 = off."
    )
    sample_step_px: PosFloat = Field(3.0, description="Spacing of the points compared, px.")
    claim_px: PosFloat = Field(
        4.0, description="A stroke point this near a tracked line's prediction lies on it, px."
    )
    stitch_px: NonNegFloat = Field(
        36.0, description="Widest gap, px, joined between two pieces of one tracked line."
    )
    reid_frames: NonNegInt = Field(
        48, description="Frames a line lost for good can still get its id back; 0 = never."
    )
    reid_px: PosFloat = Field(
        48.0, description="How far, px, a returning line may be from where it was predicted."
    )
    smoothing: bool = Field(True, description="Smooth control points and pressure per track.")
    smoothing_window: Annotated[int, Field(ge=1)] = Field(
        3, description="Frames in the smoothing window (1 = no smoothing)."
    )
    smoothing_max_px: PosFloat = Field(
        2.0, description="Offsets larger than this, px, are motion, not jitter: left unsmoothed."
    )
    hold_px: NonNegFloat = Field(
        1.0,
        description=(
            "Keep last frame's shape, moved, while nine in ten of its samples fit within "
            "this, px, and all within 1.5 times it; 0 = off."
        ),
    )
    hold_end_px: NonNegFloat = Field(
        3.0, description="How far, px, a held line's ends may slide along it."
    )
    layer_motion_px: PosFloat = Field(
        0.15,
        description="Foreground step: motion beyond the camera's, px/frame, that is foreground.",
    )


class CameraSettings(Section):
    """Camera used when the shot spec gives no intrinsics."""

    fov_deg: Annotated[float, Field(gt=0, lt=180)] = Field(
        50.0, description="Horizontal field of view, degrees."
    )


class PipelineSettings(Section):
    steps: list[str] = Field(
        default_factory=lambda: [
            "edges",
            "vectorize",
            "score",
            "flow",
            "hysteresis",
            "depth",
            "track",
            "smooth",
            "lift",
            "foreground",
            "layers",
            "render",
            "write",
        ],
        description="Processing steps after decode, by registry name, in order.",
    )


class OutputSettings(Section):
    write_svg: bool = True
    write_png: bool = False
    stroke_width: PosFloat = Field(2.0, description="Nominal stroke width in px.")
