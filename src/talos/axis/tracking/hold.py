"""Shape hold: a tracked line keeps last frame's drawn shape, moved, while it still fits.

Re-fitting every frame draws a line that stands still or moves rigidly a little differently
each time (sub-pixel "boiling": 0.7–0.8 px from frame to frame on traced footage, after the
best similarity fit). Here last frame's *output* curve ``C`` of each id is moved by a
similarity ``z ↦ a·z + b`` (complex ``a`` = scale·rotation, ``b`` translation), tried in
this order:

0. the line's velocity: last frame's motion repeated, so steady motion stays exactly
   steady (where it no longer fits, the new motion is averaged with the old one to give the
   next velocity; a line that was just re-fitted starts from the flow's motion);
1. the motion of the source: the least-squares similarity from ``C``'s samples to the same
   samples moved by the optical flow;
2. that motion refined against this frame's evidence: five steps of ICP from the moved
   samples to their nearest points on this frame's stroke of the same id (on the
   polyline through its samples, so the distances are exact to its sampling).

The first candidate that fits this frame's stroke replaces it. It fits when, both ways
(the moved samples to the stroke, the stroke's samples to the moved line), all but
:data:`OUTLIER_SHARE` of the samples lie within the allowance and all within
:data:`FAR_FACTOR` times it. The allowance is ``hold_px``; near an open line's ends it grows
to ``end_px`` at the end itself (``max(hold_px, end_px − s)``, ``s`` the arc length to the
end), so an end may slide along the line by up to ``end_px`` while the rest holds. Not the
symmetric Hausdorff distance (every sample within the allowance): a fresh fit's error is
largest at a corner or where the line map is ragged, and one sample there re-fitted a
quarter of the lines of a clip of rigidly moving shapes every frame, each re-fit a visible
change of shape.

The held shape has its control points moved exactly and keeps its pressure; where no
candidate fits, the fresh fit stays and becomes the shape held from then on. Every held
curve is checked against the new fit every frame, so the held shape never drifts further
than that from the evidence.

A line then changes shape only where its evidence does: its frames are exact similarity
copies of one another between re-fits, which exports as a keyed transform of one path
(:mod:`talos.axis.export`), and the frame-to-frame wobble of a re-fit is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from talos.axis.geometry.sampling import warp_points
from talos.axis.geometry.similarity import (
    GroupedPolylines,
    apply_similarity,
    fit_similarity,
    group_means,
)
from talos.axis.strokes import Stroke
from talos.axis.tracking.batch import sample_strokes

_ICP_STEPS = 5
_ICP_EVERY = 4  # ICP moves every 4th sample (10 px apart): plenty for a similarity's 4 numbers
_ICP_REACH_PX = 3.0  # mean distance under the flow's motion beyond which ICP is not tried
# A similarity that scales by more than this per frame is not a held line moving.
_MAX_SCALE_STEP = 0.1
OUTLIER_SHARE = 0.1  # of a line's samples that may lie past the allowance (a fit's noise) ...
FAR_FACTOR = 1.5  # ... but none past this many times it (a real change of shape)


def _group_max(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, group, values)
    return out


def _within(excess: np.ndarray, allowed: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """``(n,)`` bool: does each group's samples' distance lie within their allowance, but for
    :data:`OUTLIER_SHARE` of them, and all within :data:`FAR_FACTOR` times it? ``excess`` is
    each sample's distance minus its ``allowed`` distance (px), ``group`` its group."""
    outside = np.bincount(group, excess > 0, n)
    count = np.bincount(group, minlength=n)
    far = _group_max(excess - (FAR_FACTOR - 1.0) * allowed, group, n)
    fits: np.ndarray = (outside <= OUTLIER_SHARE * count) & (far <= 0)
    return fits


def _scaled(value: np.ndarray | float | None, factor: float) -> Any:
    return None if value is None else value * factor


def _arc_positions(
    strokes: Sequence[Stroke], points: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Along each stroke's samples (``owner`` sorted): the arc length ``(P,)`` px from each
    sample to the nearer end of its stroke (``inf`` on closed strokes, which have no ends),
    and each stroke's length ``(N,)`` px."""
    step = np.hypot(*np.diff(points, axis=0).T)
    step[owner[1:] != owner[:-1]] = 0.0
    s = np.concatenate([[0.0], np.cumsum(step)])
    first = np.searchsorted(owner, np.arange(len(strokes)))
    last = np.searchsorted(owner, np.arange(len(strokes)), side="right") - 1
    length = s[last] - s[first]
    start = s[first][owner]
    to_end = np.minimum(s - start, length[owner] - (s - start))
    closed = np.array([stroke.closed for stroke in strokes], bool)
    return np.where(closed[owner], np.inf, to_end), length


def _average_motion(
    a1: np.ndarray, b1: np.ndarray, a2: np.ndarray, b2: np.ndarray, centre: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The mean of two similarities about ``centre``: scale by the geometric mean, turn by
    the mean angle, move ``centre`` by the mean of where the two move it (all ``(n,)``)."""
    a = np.sqrt(np.abs(a1) * np.abs(a2)) * np.exp(0.5j * (np.angle(a1) + np.angle(a2)))
    moved = 0.5 * ((a1 * centre + b1) + (a2 * centre + b2))
    return a, moved - a * centre


class ShapeHold:
    """Holds each id's last output shape while a similarity of it fits this frame's stroke
    (within ``hold_px``: see the module docstring); ``hold_px = 0`` turns it off."""

    def __init__(
        self, hold_px: float = 1.0, end_px: float = 3.0, sample_step_px: float = 2.5
    ) -> None:
        self.hold_px = float(hold_px)
        self.end_px = float(end_px)
        self.step = float(sample_step_px)
        self.previous: dict[int, Stroke] = {}
        # id → the similarity that moved its line into the last frame (the flow's where the
        # line was re-fitted): repeated, it is the constant-velocity candidate.
        self.velocity: dict[int, tuple[complex, complex]] = {}
        self.held = 0  # strokes held in the last update
        self.carried = 0  # strokes whose id had a shape to hold in the last update

    def reset(self) -> None:
        self.previous, self.velocity = {}, {}

    def update(self, strokes: Sequence[Stroke], flow: np.ndarray | None) -> list[Stroke]:
        """This frame's strokes, each replaced by its held shape where that still fits."""
        out = list(strokes)
        carried = [k for k, s in enumerate(strokes) if s.stroke_id in self.previous]
        self.carried, self.held = len(carried), 0
        if carried and self.hold_px > 0:
            previous = [self.previous[strokes[k].stroke_id] for k in carried]
            last = [self.velocity.get(strokes[k].stroke_id) for k in carried]
            moves, motions = self._moves(previous, [strokes[k] for k in carried], flow, last)
            self.velocity = {
                strokes[k].stroke_id: motion for k, motion in zip(carried, motions, strict=True)
            }
            for j, (k, move) in enumerate(zip(carried, moves, strict=True)):
                if move is None:
                    continue
                a, b = move
                cp = apply_similarity(previous[j].control_points.astype(np.float64), a, b)
                out[k] = strokes[k].evolve(
                    control_points=cp,
                    pressure=previous[j].pressure,
                    closed=previous[j].closed,
                    # κ of a curve scaled by |a| is κ / |a|.
                    curvature=_scaled(previous[j].curvature, 1.0 / abs(a)),
                    curvature_mean=_scaled(previous[j].curvature_mean, 1.0 / abs(a)),
                    points_3d=None,
                )
                self.held += 1
        self.previous = {s.stroke_id: s for s in out}
        return out

    def _moves(
        self,
        previous: list[Stroke],
        current: list[Stroke],
        flow: np.ndarray | None,
        last: list[tuple[complex, complex] | None],
    ) -> tuple[list[tuple[complex, complex] | None], list[tuple[complex, complex]]]:
        """Per pair, the first candidate similarity that fits (or None), and the
        motion to repeat next frame (the chosen similarity, else the flow's). Each candidate
        is tried only on the pairs the ones before it left."""
        n = len(previous)
        prev_pts, prev_of = sample_strokes(previous, self.step)
        cur_pts, cur_of = sample_strokes(current, self.step)
        prev_ends, prev_len = _arc_positions(previous, prev_pts, prev_of)
        cur_ends, cur_len = _arc_positions(current, cur_pts, cur_of)
        # Ends may slide along the line by up to end_px: allowed = max(hold, end − s_end).
        prev_allowed = np.maximum(self.hold_px, self.end_px - prev_ends)
        cur_allowed = np.maximum(self.hold_px, self.end_px - cur_ends)
        chosen: list[tuple[complex, complex] | None] = [None] * n
        # An open line whose length changed by more than its ends may slide (plus the scale
        # a frame may bring) cannot be held: no candidate is tried for it.
        slack = 2.0 * (self.end_px + self.hold_px) + _MAX_SCALE_STEP * prev_len
        closed = np.array([stroke.closed for stroke in current], bool)
        open_pairs = closed | (np.abs(cur_len - prev_len) <= slack)
        # Each query names its pair as its group, so one tree serves every subset of pairs.
        cur_line = GroupedPolylines(cur_pts, cur_of)

        def settle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            """Choose ``(a, b)`` for the open pairs it fits (a scale of 0: no candidate);
            return each pair's mean distance from this frame's stroke under it (px)."""
            p_in = open_pairs[prev_of]
            p_of = prev_of[p_in]
            moved = apply_similarity(prev_pts[p_in], a[p_of], b[p_of])
            forward, _ = cur_line.nearest(moved, p_of)
            fits = (
                open_pairs
                & _within(forward - prev_allowed[p_in], prev_allowed[p_in], p_of, n)
                & (np.abs(np.abs(a) - 1.0) <= _MAX_SCALE_STEP)
            )
            # The way back (is all of this frame's stroke near the moved line?) only for
            # the pairs the way there left standing.
            if fits.any():
                c_in, m_in = fits[cur_of], fits[p_of]
                c_of = cur_of[c_in]
                back = GroupedPolylines(moved[m_in], p_of[m_in])
                backward, _ = back.nearest(cur_pts[c_in], c_of)
                fits &= _within(backward - cur_allowed[c_in], cur_allowed[c_in], c_of, n)
            for j in np.flatnonzero(fits):
                chosen[j] = (complex(a[j]), complex(b[j]))
            open_pairs[fits] = False
            mean: np.ndarray = np.bincount(p_of, forward, n) / np.maximum(
                np.bincount(p_of, minlength=n), 1
            )
            return mean

        # Unknown velocities get a scale of 0, which never fits.
        last_a = np.array([m[0] if m else 0j for m in last], complex)
        last_b = np.array([m[1] if m else 0j for m in last], complex)
        settle(last_a, last_b)
        steady = ~open_pairs
        flow_a, flow_b = fit_similarity(prev_pts, warp_points(prev_pts, flow), prev_of, n)
        if open_pairs.any():
            # ICP only refines: a line the flow's motion left far from its stroke has
            # changed, and is not worth the iterations.
            open_pairs &= settle(flow_a, flow_b) <= _ICP_REACH_PX
        if open_pairs.any():
            # ICP on every few samples of the open pairs: enough points to fit four numbers.
            source = open_pairs[prev_of]
            source[np.arange(len(source)) % _ICP_EVERY != 0] = False
            src, src_of = prev_pts[source], prev_of[source]
            a, b = flow_a, flow_b
            for _ in range(_ICP_STEPS):
                _, nearest = cur_line.nearest(apply_similarity(src, a[src_of], b[src_of]), src_of)
                a, b = fit_similarity(src, nearest, src_of, n)
            settle(a, b)
        # Next frame's velocity: unchanged where it held; else the new motion (the chosen
        # similarity, or the flow's) averaged with the old one about the line's centroid, so
        # one noisy estimate does not set the speed of the frames to come.
        new_a = np.array([m[0] if m else flow_a[j] for j, m in enumerate(chosen)], complex)
        new_b = np.array([m[1] if m else flow_b[j] for j, m in enumerate(chosen)], complex)
        centre = group_means(prev_pts, prev_of, n)
        known = np.abs(last_a) > 0
        mix_a, mix_b = _average_motion(last_a, last_b, new_a, new_b, centre)
        next_a = np.where(steady, last_a, np.where(known, mix_a, new_a))
        next_b = np.where(steady, last_b, np.where(known, mix_b, new_b))
        motions = [(complex(a), complex(b)) for a, b in zip(next_a, next_b, strict=True)]
        return chosen, motions
