"""Temporal and 3D steps: depth, flow, track, smooth, lift, foreground.

``depth`` is per frame (stateless); ``flow``, ``track`` and ``smooth`` keep the previous
frame; ``lift`` and ``foreground`` read what those left in the context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from talos.axis.context import FrameContext
from talos.axis.geometry import ragged
from talos.axis.geometry.camera import (
    camera_to_world,
    extrinsics_from_shot,
    intrinsics_from_shot,
    lift,
    pose_at,
    project,
    sample_depth,
)
from talos.axis.steps import STEPS, BuildContext
from talos.axis.strategies import DEPTH_ESTIMATORS, FLOW_ESTIMATORS
from talos.axis.strategies.edges import to_gray
from talos.axis.strokes import Circle, Stroke, Triangle
from talos.axis.tracking import StrokeTracker, TrackSmoother, delta_kappa
from talos.axis.tracking.cuts import CutDetector
from talos.axis.tracking.hold import ShapeHold
from talos.axis.tracking.tracks import table_summary
from talos.axis.types import ProcessingStep, RunInfo


@STEPS.register("depth")
class DepthStep(ProcessingStep):
    """Frame → ``depth`` ``(H, W)`` with the ``depth.strategy`` estimator."""

    name = "depth"

    def __init__(self, build: BuildContext) -> None:
        self.estimator = DEPTH_ESTIMATORS.create(build.settings.depth.strategy, build.settings)

    def process(self, ctx: FrameContext) -> FrameContext:
        depth = self.estimator.estimate(ctx.image, ctx.source_index)
        return ctx.builder().set(depth=depth).build()


@STEPS.register("flow")
class FlowStep(ProcessingStep):
    """Previous and this frame → ``flow`` ``(H, W, 2)``; none on the first frame."""

    name = "flow"
    stateful = True

    def __init__(self, build: BuildContext) -> None:
        self.estimator = FLOW_ESTIMATORS.create(build.settings.flow.strategy, build.settings)
        self.previous: np.ndarray | None = None

    def open(self, run: RunInfo) -> None:
        self.previous = None

    def process(self, ctx: FrameContext) -> FrameContext:
        gray = to_gray(ctx.image)
        previous, self.previous = self.previous, gray
        if previous is None:
            return ctx
        flow = self.estimator.estimate(previous, gray)
        magnitude = float(np.median(np.hypot(flow[::8, ::8, 0], flow[::8, ::8, 1])))
        return ctx.builder().set(flow=flow).add_metrics(flow_median_px=magnitude).build()


# Cubic handle length of a quarter circle of radius 1: 4/3 · tan(π/8).
_QUARTER = 4.0 / 3.0 * np.tan(np.pi / 8.0)


def primitive_proxies(circles: Sequence[Circle], triangles: Sequence[Triangle]) -> list[Stroke]:
    """Closed Bézier strokes tracing circles (4 quarter arcs) and triangles (3 sides), so
    the tracker gives primitives stable ids from the same pool as strokes."""
    proxies = []
    for circle in circles:
        c, r = np.asarray(circle.center, dtype=np.float64), float(circle.radius)
        a = np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 0]], np.float64)
        tangent = a[:, ::-1] * [-1, 1]
        cp = np.empty((13, 2))
        cp[0::3] = c + r * a
        cp[1::3] = c + r * (a[:-1] + _QUARTER * tangent[:-1])
        cp[2::3] = c + r * (a[1:] - _QUARTER * tangent[1:])
        proxies.append(Stroke(stroke_id=-1, control_points=cp, pressure=np.ones(5), closed=True))
    for triangle in triangles:
        proxies.append(Stroke.from_polyline(np.asarray(triangle.vertices), -1, closed=True))
    return proxies


@STEPS.register("track")
class TrackStep(ProcessingStep):
    """Stable ``stroke_id`` across frames (StrokeTracker) and Δκ of matched strokes.

    Circles and triangles are tracked with the strokes (as Bézier proxies of their outline),
    so their ``stroke_id`` is stable too and never collides with a stroke's.

    A scene cut (:mod:`talos.axis.tracking.cuts`, ``tracking.cut_threshold``) ends every
    track: the next shot's strokes get new ids.

    Puts ``delta_kappa`` (mean ``|κ(t) − κ(t−1)|`` over ids present in both frames, 1/px) in
    the frame metrics, and the track table (id, first/last frame, length) in the run results.
    """

    name = "track"
    stateful = True

    def __init__(self, build: BuildContext) -> None:
        self.config = build.settings.tracking
        self.tracker = self._new_tracker()
        self.cuts = CutDetector(self.config.cut_threshold)
        self.kappa: dict[int, float] = {}

    def _new_tracker(self) -> StrokeTracker:
        c = self.config
        return StrokeTracker(
            gate_px=c.gate_px,
            max_lost=c.max_lost,
            sample_step_px=c.sample_step_px,
            claim_px=c.claim_px,
            stitch_px=c.stitch_px,
            reid_frames=c.reid_frames,
            reid_px=c.reid_px,
        )

    def open(self, run: RunInfo) -> None:
        self.tracker = self._new_tracker()
        self.cuts.reset()
        self.kappa = {}

    def process(self, ctx: FrameContext) -> FrameContext:
        if not self.config.enabled:
            return ctx
        cut = self.cuts.is_cut(ctx.image)
        if cut:  # a new shot: no id crosses, and last frame's curvatures compare with nothing
            self.tracker.cut()
            self.kappa = {}
        proxies = primitive_proxies(ctx.circles, ctx.triangles)
        tracked = self.tracker.update(
            ctx.strokes,
            ctx.flow,
            ctx.index,
            (ctx.height, ctx.width),
            line_map=ctx.line_map,
            primitives=proxies,
            image=ctx.image,
        )
        strokes = tracked[: len(tracked) - len(proxies)]
        ids = iter(s.stroke_id for s in tracked[len(strokes) :])
        builder = ctx.builder().set(
            strokes=strokes,
            circles=[replace(c, stroke_id=next(ids)) for c in ctx.circles],
            triangles=[replace(t, stroke_id=next(ids)) for t in ctx.triangles],
        )
        mean_dk, self.kappa = delta_kappa(self.kappa, strokes)
        if mean_dk is not None:
            builder.add_metrics(delta_kappa=mean_dk)
        return builder.add_counts(live_tracks=len(self.tracker.tracks), scene_cuts=int(cut)).build()

    def close(self, run: RunInfo) -> Mapping[str, Any]:
        if not self.config.enabled:
            return {}
        table = self.tracker.table()
        return {"tracks": table, "track_summary": table_summary(table)}


@STEPS.register("smooth")
class SmoothStep(ProcessingStep):
    """Per-track temporal smoothing of control points and pressure (``tracking.smoothing``),
    then the shape hold (``tracking.hold_px``, :mod:`talos.axis.tracking.hold`): a line keeps
    last frame's shape, moved, while that still fits its evidence.

    Δκ is measured again on the output strokes (``delta_kappa``, what the output holds);
    the tracker's figure is kept as ``delta_kappa_raw``. ``held_share`` is the share of
    strokes with an id from the previous frame that kept its shape.
    """

    name = "smooth"
    stateful = True

    def __init__(self, build: BuildContext) -> None:
        config = build.settings.tracking
        self.enabled = config.enabled and config.smoothing and config.smoothing_window > 1
        self.hold_px = config.hold_px if config.enabled else 0.0
        self.hold_end_px = config.hold_end_px
        self.window, self.max_px = config.smoothing_window, config.smoothing_max_px
        self.smoother = TrackSmoother(self.window, self.max_px)
        self.hold = ShapeHold(self.hold_px, self.hold_end_px)
        self.kappa: dict[int, float] = {}

    def open(self, run: RunInfo) -> None:
        self.smoother = TrackSmoother(self.window, self.max_px)
        self.hold = ShapeHold(self.hold_px, self.hold_end_px)
        self.kappa = {}

    def process(self, ctx: FrameContext) -> FrameContext:
        if not self.enabled and self.hold_px <= 0:
            return ctx
        strokes = list(ctx.strokes)
        if self.enabled:
            strokes = self.smoother.smooth(strokes, ctx.flow)
        builder = ctx.builder()
        if self.hold_px > 0:
            strokes = self.hold.update(strokes, ctx.flow)
            if self.hold.carried:
                builder.add_metrics(held_share=self.hold.held / self.hold.carried)
        if self.enabled:
            self.smoother.remember(strokes)
        builder.set(strokes=strokes)
        mean_dk, self.kappa = delta_kappa(self.kappa, strokes)
        if mean_dk is not None:
            builder.add_metrics(delta_kappa=mean_dk)
            if "delta_kappa" in ctx.metrics:
                builder.add_metrics(delta_kappa_raw=ctx.metrics["delta_kappa"])
        return builder.build()


@STEPS.register("lift")
class LiftStep(ProcessingStep):
    """Knots → ``points_3d`` (world coordinates when the shot gives extrinsics, else camera
    coordinates) with the frame's depth and the shot's K; reports the re-projection error.

    ``points_3d = Rᵀ (D(u, v) · K⁻¹ [u, v, 1]ᵀ − t)``; ``reprojection_error_px`` is the mean
    distance between the knots and ``Π(points_3d) = K [R | t] points_3d``.
    """

    name = "lift"

    def __init__(self, build: BuildContext) -> None:
        self.fov = build.settings.camera.fov_deg
        self.poses = extrinsics_from_shot(build.shot)  # bad cameras fail before the run
        self.K: np.ndarray | None = None

    def open(self, run: RunInfo) -> None:
        self.K = intrinsics_from_shot(run.shot, run.width, run.height, self.fov)
        self.poses = extrinsics_from_shot(run.shot)

    def process(self, ctx: FrameContext) -> FrameContext:
        if ctx.depth is None:
            raise ValueError("lift needs depth: put the depth step before it")
        if not ctx.strokes:
            return ctx
        K = self.K if self.K is not None else intrinsics_from_shot({}, ctx.width, ctx.height)
        pose = pose_at(self.poses, ctx.source_index) if self.poses else None
        knots = np.concatenate([s.knots for s in ctx.strokes]).astype(np.float64)
        camera = lift(knots, sample_depth(ctx.depth, knots), K)
        points = camera_to_world(camera, pose) if pose is not None else camera
        uv = project(points, K, pose)
        error = float(np.mean(np.linalg.norm(uv - knots, axis=1)))
        strokes = [
            s.evolve(points_3d=p)
            for s, p in zip(
                ctx.strokes, ragged.split(points, [len(s.knots) for s in ctx.strokes]), strict=True
            )
        ]
        return ctx.builder().set(strokes=strokes).add_metrics(reprojection_error_px=error).build()

    def close(self, run: RunInfo) -> Mapping[str, Any]:
        # The K the points were lifted with, for lines.json when the shot gives none.
        return {} if self.K is None else {"camera_intrinsics": np.round(self.K, 4).tolist()}


@STEPS.register("foreground")
class ForegroundStep(ProcessingStep):
    """Foreground mask for the ``layers`` step, from depth or motion.

    Puts ``(H, W)`` bool in ``ctx.extras["foreground_mask"]`` (the ``layers`` step reads it
    and puts strokes mostly inside it on the shot's front layer, the rest on the back one):

    - with informative depth (not constant): pixels nearer than Otsu's threshold on
      log-depth;
    - otherwise, with flow: the camera's motion is fitted as one affine map of the flow
      (RANSAC); pixels whose flow differs from it by more than ``tracking.layer_motion_px``
      and more than the flow's noise (median + 4·MAD of the residuals on a grid) move on
      their own: foreground;
    - with neither (first frame, planar depth) or on frames under 16 px, no mask.
    """

    name = "foreground"

    def __init__(self, build: BuildContext) -> None:
        self.threshold = build.settings.tracking.layer_motion_px

    def process(self, ctx: FrameContext) -> FrameContext:
        depth = ctx.depth
        if depth is not None and depth.strides != (0, 0) and np.ptp(depth) > 0:
            mask = _near_mask(depth)
        elif ctx.flow is not None and min(ctx.flow.shape[:2]) >= 16:
            mask = self._moving_mask(ctx.flow)
        else:
            return ctx
        return (
            ctx.builder()
            .add_extras(foreground_mask=mask)
            .add_metrics(foreground_share=float(mask.mean()))
            .build()
        )

    def _moving_mask(self, flow: np.ndarray) -> np.ndarray:
        h, w = flow.shape[:2]
        step = max(4, min(h, w) // 40)
        ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
        src = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float32)
        dst = src + flow[ys.ravel(), xs.ravel()]
        affine, _ = cv2.estimateAffine2D(src, dst, ransacReprojThreshold=1.0)
        if affine is None:
            affine = np.array([[1.0, 0, 0], [0, 1.0, 0]])
        # What the camera model leaves unexplained on the grid is flow noise: a pixel is in
        # front only if its own residual stands out from it.
        grid_residual = np.linalg.norm(dst - (src @ affine[:, :2].T + affine[:, 2]), axis=1)
        median = float(np.median(grid_residual))
        spread = 1.4826 * float(np.median(np.abs(grid_residual - median)))
        threshold = max(self.threshold, median + 4.0 * spread)
        # The mask is decided every 4 px and scaled up: lines are far wider than that
        # in motion terms, and a full-size residual map costs more than the tracking.
        coarse = flow[::4, ::4]
        yy, xx = np.mgrid[0:h:4, 0:w:4].astype(np.float32)
        camera_dx = affine[0, 0] * xx + affine[0, 1] * yy + affine[0, 2] - xx
        camera_dy = affine[1, 0] * xx + affine[1, 1] * yy + affine[1, 2] - yy
        residual = np.hypot(coarse[..., 0] - camera_dx, coarse[..., 1] - camera_dy)
        moving = (residual > threshold).astype(np.uint8)
        mask: np.ndarray = cv2.resize(moving, (w, h), interpolation=cv2.INTER_NEAREST) > 0
        return mask


def _near_mask(depth: np.ndarray) -> np.ndarray:
    """Pixels nearer than Otsu's threshold on log-depth, ``(H, W)`` bool."""
    log_depth = np.log(np.asarray(depth, dtype=np.float32))
    scaled = cv2.normalize(log_depth, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    _, far = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    near: np.ndarray = far == 0
    return near
