"""The ``hysteresis`` step: last frame's lines survive where this frame's evidence is weak."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from talos.axis.context import FrameContext
from talos.axis.steps import STEPS, BuildContext
from talos.axis.strategies import VECTORIZERS, VectorResult
from talos.axis.strokes import Stroke, triangle_vertices
from talos.axis.tracking.cuts import CutDetector
from talos.axis.tracking.hysteresis import (
    MovedLines,
    expected_lines,
    lasting_lines,
    recovered_lines,
    unpack_mask,
)
from talos.axis.types import ProcessingStep, RunInfo

WEAK_EDGES = "weak_edges"  # ctx.extras key: the edge step's weak candidates, packed
_MARGIN = 4  # px of background kept around the recovered pixels when vectorizing them


def shifted(result: VectorResult, dx: float, dy: float) -> VectorResult:
    """``result`` (strokes, circles, triangles in px of a crop) moved by ``(dx, dy)`` px."""
    offset = np.array([dx, dy], np.float32)
    return replace(
        result,
        strokes=tuple(s.evolve(control_points=s.control_points + offset) for s in result.strokes),
        circles=tuple(
            replace(c, center=(c.center[0] + dx, c.center[1] + dy)) for c in result.circles
        ),
        triangles=tuple(
            replace(t, vertices=triangle_vertices((x + dx, y + dy) for x, y in t.vertices))
            for t in result.triangles
        ),
    )


@STEPS.register("hysteresis")
class TemporalHysteresisStep(ProcessingStep):
    """Temporal hysteresis (:mod:`talos.axis.tracking.hysteresis`): the weak edge pixels
    that continue last frame's lasting lines (seen in the frame before it too,
    :func:`~talos.axis.tracking.hysteresis.lasting_lines`; moved by ``flow``) are
    vectorized and added to this frame's strokes and line map, before tracking. Needs the
    ``edges`` step's weak candidates (``edges.temporal_low`` > 0, strategies
    ``boundaries`` and ``canny``) and the ``flow`` step; does nothing on a shot's first
    frames, at a scene cut, and with ``tracking.enabled`` off (a per-frame trace).

    Counts ``recovered_strokes`` and ``recovered_pixels`` per frame.
    """

    name = "hysteresis"
    stateful = True

    def __init__(self, build: BuildContext) -> None:
        settings = build.settings
        # Tracking off means a per-frame trace: no temporal step changes what is drawn.
        self.enabled = settings.tracking.enabled
        self.vectorizer = VECTORIZERS.create(settings.vectorize.strategy, settings)
        self.radius = max(1, math.ceil(settings.tracking.claim_px / 2))
        self.min_pixels = max(2, round(settings.vectorize.min_length))
        self.cuts = CutDetector(settings.tracking.cut_threshold)
        self.previous: tuple[Stroke, ...] = ()
        # Where the lines of two frames back went by last frame: last frame's lines that lie
        # there had been seen twice in a row, and only those keep their weak evidence.
        self.persisted: np.ndarray | None = None

    def open(self, run: RunInfo) -> None:
        self.previous = ()
        self.persisted = None
        self.cuts.reset()

    def _vectorize(self, ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]) -> VectorResult:
        """The recovered pixels ``(ys, xs)`` of a frame of ``shape`` as strokes and
        primitives, in frame px: only their bounding box (plus a margin) is vectorized."""
        y0, x0 = max(int(ys.min()) - _MARGIN, 0), max(int(xs.min()) - _MARGIN, 0)
        y1 = min(int(ys.max()) + _MARGIN + 1, shape[0])
        x1 = min(int(xs.max()) + _MARGIN + 1, shape[1])
        crop = np.zeros((y1 - y0, x1 - x0), np.uint8)
        crop[ys - y0, xs - x0] = 255
        return shifted(self.vectorizer.vectorize(crop), float(x0), float(y0))

    def process(self, ctx: FrameContext) -> FrameContext:
        packed = ctx.extras.get(WEAK_EDGES)
        if not self.enabled or packed is None:  # no weak candidates (e.g. xdog): nothing to do
            return ctx
        previous, self.previous = self.previous, ctx.strokes
        persisted, self.persisted = self.persisted, None
        if self.cuts.is_cut(ctx.image) or ctx.flow is None or not previous:
            return ctx
        lines = MovedLines.of(previous, ctx.flow)
        self.persisted = expected_lines(lines, ctx.flow.shape[:2], self.radius)
        if ctx.line_map is None:
            return ctx
        weak = unpack_mask(packed)
        seeds = lasting_lines(lines, persisted)
        if not seeds.any():
            return ctx
        expected = expected_lines(lines.subset(seeds), weak.shape, self.radius)
        ys, xs = recovered_lines(ctx.line_map, weak, expected, self.min_pixels)
        pixels = len(xs)
        if not pixels:
            return ctx.builder().add_counts(recovered_strokes=0, recovered_pixels=0).build()
        result = self._vectorize(ys, xs, weak.shape)
        strokes = (*ctx.strokes, *result.strokes)
        line_map = ctx.line_map.copy()
        line_map[ys, xs] = 255
        return (
            ctx.builder()
            .set(
                strokes=strokes,
                circles=(*ctx.circles, *result.circles),
                triangles=(*ctx.triangles, *result.triangles),
                line_map=line_map,
            )
            .add_counts(recovered_strokes=len(result.strokes), recovered_pixels=pixels)
            .build()
        )
