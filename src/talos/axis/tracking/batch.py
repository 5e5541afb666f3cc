"""Whole-frame Bézier operations: every stroke of a frame in one vectorised pass.

Per-stroke NumPy calls cost more in call overhead than in arithmetic when a frame holds
hundreds of short strokes, so the tracker and the smoother work on all segments at once,
with an ``owner`` array naming the stroke of each segment or point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from talos.axis.geometry import ragged
from talos.axis.geometry.bezier import curvature, segment_derivatives, segments
from talos.axis.strokes import Stroke


def frame_segments(strokes: Sequence[Stroke]) -> tuple[np.ndarray, np.ndarray]:
    """All cubic segments ``(S, 4, 2)`` float64 and the stroke index of each ``(S,)``."""
    if not strokes:
        return np.zeros((0, 4, 2)), np.zeros(0, np.int64)
    segs = np.concatenate([segments(s.control_points) for s in strokes])
    owner = np.repeat(np.arange(len(strokes)), [s.segment_count for s in strokes])
    return segs, owner


def _bernstein(segs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Point of segment ``segs[k]`` at ``t[k]``: ``(K, 4, 2)``, ``(K,)`` → ``(K, 2)``."""
    t = t[:, None]
    u = 1.0 - t
    p0, p1, p2, p3 = segs[:, 0], segs[:, 1], segs[:, 2], segs[:, 3]
    points: np.ndarray = u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3
    return points


@dataclass(frozen=True)
class StrokeSamples:
    """Points along every stroke of a frame, in curve order, both ends included.

    ``points`` ``(P, 2)`` float64 px; ``owner`` ``(P,)`` the stroke of each point;
    ``segment`` ``(P,)`` the segment (within its stroke) and ``t`` ``(P,)`` the parameter of
    each point on it, so a point names an exact place to cut the stroke.
    """

    points: np.ndarray
    owner: np.ndarray
    segment: np.ndarray
    t: np.ndarray


def sample_strokes_at(strokes: Sequence[Stroke], step: float) -> StrokeSamples:
    """Points along every stroke, at most about ``step`` px apart (see :class:`StrokeSamples`).

    A segment gets ``ceil(L / step)`` uniform parameter samples ``t = 0, 1/c, ...``, ``L``
    its control-polygon length (an upper bound of its arc length); each stroke's last point
    is added at ``t = 1`` of its last segment.
    """
    segs, seg_owner = frame_segments(strokes)
    if len(segs) == 0:
        empty = np.zeros(0, np.int64)
        return StrokeSamples(np.zeros((0, 2)), empty, empty, np.zeros(0))
    polygon = np.linalg.norm(np.diff(segs, axis=1), axis=2).sum(axis=1)
    count = np.maximum(1, np.ceil(polygon / step)).astype(np.int64)
    seg_index = np.repeat(np.arange(len(segs)), count)
    first = np.cumsum(count) - count
    t = (np.arange(count.sum()) - first[seg_index]) / count[seg_index]
    points = _bernstein(segs[seg_index], t)
    owner = seg_owner[seg_index]
    stroke_first_seg = np.cumsum([s.segment_count for s in strokes]) - [
        s.segment_count for s in strokes
    ]
    local = seg_index - stroke_first_seg[owner]
    per_stroke = np.bincount(owner, minlength=len(strokes))
    ends = np.array([s.control_points[-1] for s in strokes], dtype=np.float64)
    at = np.cumsum(per_stroke)
    n = np.arange(len(strokes))
    return StrokeSamples(
        np.insert(points, at, ends, axis=0),
        np.insert(owner, at, n),
        np.insert(local, at, [s.segment_count - 1 for s in strokes]),
        np.insert(t, at, 1.0),
    )


def sample_strokes(strokes: Sequence[Stroke], step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along every stroke, at most about ``step`` px apart, in curve order, both ends
    included: ``(P, 2)`` float64 and the owner stroke of each point ``(P,)``
    (:func:`sample_strokes_at` without the curve parameters)."""
    samples = sample_strokes_at(strokes, step)
    return samples.points, samples.owner


def split_by_owner(values: np.ndarray, owner: np.ndarray, n: int) -> list[np.ndarray]:
    """``values`` grouped by a sorted ``owner`` array into ``n`` arrays."""
    if n == 0:
        return []
    return ragged.split(values, np.bincount(owner, minlength=n))


def mean_curvatures(strokes: Sequence[Stroke], per_segment: int = 16) -> np.ndarray:
    """:attr:`Stroke.mean_curvature` of every stroke, ``(N,)`` 1/px: the known
    ``curvature_mean`` where set, else ``∫|κ| ds / ∫ ds`` over ``per_segment`` midpoint
    samples per segment (as :func:`~talos.axis.geometry.bezier.mean_abs_curvature`)."""
    out = np.array([np.nan if s.curvature_mean is None else s.curvature_mean for s in strokes])
    todo = np.flatnonzero(np.isnan(out))
    if len(todo) == 0:
        return out
    # A NumPy integer indexes the Sequence at run time; typeshed's Sequence takes int only.
    segs, owner = frame_segments([strokes[i] for i in todo])  # type: ignore[call-overload]
    d1, d2 = segment_derivatives(segs, (np.arange(per_segment) + 0.5) / per_segment)
    speed = np.hypot(d1[..., 0], d1[..., 1])
    weighted = (np.abs(curvature(d1, d2)) * speed).sum(axis=1)
    total = np.bincount(owner, weights=speed.sum(axis=1), minlength=len(todo))
    bent = np.bincount(owner, weights=weighted, minlength=len(todo))
    out[todo] = np.divide(bent, total, out=np.zeros_like(bent), where=total > 1e-9)
    return out
