"""Temporal smoothing of tracked strokes: less jitter, no lag on fast motion.

For a stroke whose id was on screen in the previous frame, the previous *output* curve is
moved forward with the optical flow (motion compensation), and each knot is pulled toward
the nearest point of that prediction by ``α · w``: ``α = 1 − 2 / (window + 1)`` is the weight
an exponential moving average of span ``window`` gives the past, and
``w = clip(2 − 2|δ| / max_px, 0, 1)`` keeps the full pull up to ``max_px / 2`` and fades it to
zero at ``max_px``, for offsets ``δ`` that are real motion the flow did not explain. Since
the prediction already carries the motion, smoothing removes frame-to-frame wobble without
trailing behind fast moves. Inner control points follow the offsets of their
knots linearly; pressure is blended the same way along arc length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree

from talos.axis.geometry.bezier import chain_curvatures
from talos.axis.geometry.sampling import warp_points
from talos.axis.geometry.similarity import grouped_points
from talos.axis.strokes import Stroke
from talos.axis.tracking.batch import sample_strokes, split_by_owner


def _arc_fraction(points: np.ndarray) -> np.ndarray:
    seg = np.hypot(*np.diff(points, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    return s / s[-1] if s[-1] > 0 else np.linspace(0.0, 1.0, len(points))


class TrackSmoother:
    """Smooths each frame's strokes against the previous frame's output, by ``stroke_id``."""

    def __init__(self, window: int = 3, max_px: float = 2.0, sample_step_px: float = 1.5) -> None:
        self.alpha = 1.0 - 2.0 / (window + 1.0)
        self.max_px = float(max_px)
        self.step = float(sample_step_px)
        # id → (dense samples of the last output curve, knot arc fractions, knot pressures)
        self.previous: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def update(self, strokes: Sequence[Stroke], flow: np.ndarray | None) -> list[Stroke]:
        """:meth:`smooth`, then :meth:`remember` the result."""
        out = self.smooth(strokes, flow)
        self.remember(out)
        return out

    def smooth(self, strokes: Sequence[Stroke], flow: np.ndarray | None) -> list[Stroke]:
        """This frame's strokes smoothed against the remembered output (nothing stored)."""
        out = list(strokes)
        carried = [k for k, s in enumerate(strokes) if s.stroke_id in self.previous]
        if carried and self.alpha > 0:
            shifts = self._knot_shifts([strokes[k] for k in carried], flow)
            for k, shift in zip(carried, shifts, strict=True):
                _, prev_s, prev_pressure = self.previous[strokes[k].stroke_id]
                out[k] = self._smooth(strokes[k], shift, prev_s, prev_pressure)
            _refresh_curvature(out, carried)
        return out

    def remember(self, strokes: Sequence[Stroke]) -> None:
        """Keep ``strokes`` (this frame's output) as what the next frame is smoothed toward."""
        points, owner = sample_strokes(strokes, self.step)
        self.previous = {
            stroke.stroke_id: (dense, _arc_fraction(stroke.knots), stroke.pressure)
            for stroke, dense in zip(
                strokes, split_by_owner(points, owner, len(strokes)), strict=True
            )
        }

    def _knot_shifts(self, strokes: list[Stroke], flow: np.ndarray | None) -> list[np.ndarray]:
        """Per stroke, ``α·w·δ`` for each knot (see the module docstring), ``(n + 1, 2)``."""
        prev = [self.previous[s.stroke_id][0] for s in strokes]
        predicted = warp_points(np.concatenate(prev), flow)
        group = np.repeat(np.arange(len(prev)), [len(p) for p in prev])
        knots = np.concatenate([s.knots for s in strokes]).astype(np.float64)
        knot_group = np.repeat(np.arange(len(strokes)), [len(s.knots) for s in strokes])
        tree = cKDTree(grouped_points(predicted, group))
        distance, nearest = tree.query(grouped_points(knots, knot_group))
        offset = predicted[nearest] - knots
        weight = self.alpha * np.clip(2.0 - 2.0 * distance / self.max_px, 0.0, 1.0)
        return split_by_owner(offset * weight[:, None], knot_group, len(strokes))

    def _smooth(
        self, stroke: Stroke, shift: np.ndarray, prev_s: np.ndarray, prev_pressure: np.ndarray
    ) -> Stroke:
        cp = stroke.control_points.astype(np.float64).copy()
        cp[0::3] += shift
        # Inner points follow the knot offsets linearly (at 1/3 and 2/3 of the segment), so
        # a straight segment stays straight and curvature changes only as the knots move.
        cp[1::3] += (2.0 * shift[:-1] + shift[1:]) / 3.0
        cp[2::3] += (shift[:-1] + 2.0 * shift[1:]) / 3.0
        pressure = stroke.pressure.astype(np.float64)
        blended = np.interp(_arc_fraction(cp[0::3]), prev_s, prev_pressure)
        pressure = (1.0 - self.alpha) * pressure + self.alpha * blended
        return stroke.evolve(control_points=cp, pressure=pressure)


def _refresh_curvature(strokes: list[Stroke], which: Sequence[int]) -> None:
    """Recompute, in one batch, the curvature fields that strokes ``which`` carried before
    smoothing moved their control points (in place in ``strokes``)."""
    stale = [
        k
        for k in which
        if strokes[k].curvature is not None or strokes[k].curvature_mean is not None
    ]
    if not stale:
        return
    fresh = chain_curvatures([strokes[k].control_points for k in stale])
    for k, (knots, mean) in zip(stale, fresh, strict=True):
        stroke = strokes[k]
        strokes[k] = stroke.evolve(
            curvature=knots if stroke.curvature is not None else None,
            curvature_mean=mean if stroke.curvature_mean is not None else None,
        )
