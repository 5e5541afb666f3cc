"""Cutting strokes into pieces and joining pieces into strokes, exactly on the curve.

The tracker re-cuts a frame's strokes where they pass from one tracked line to another and
joins the pieces of one tracked line (:mod:`talos.axis.tracking.tracker`). A cut at parameter
``t`` of segment ``k`` splits that cubic with de Casteljau's construction, so both pieces
trace the original curve exactly; the new knot's pressure is interpolated linearly in ``t``
between the segment's end knots. A join puts the second chain after the first, with a straight
segment across any gap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from talos.axis.geometry.bezier import chain_curvatures
from talos.axis.strokes import Stroke

_SAME_POINT_PX = 0.5  # ends closer than this are joined without a bridging segment


def split_cubic(segment: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """One cubic ``(4, 2)`` split at ``t`` into ``[0, t]`` and ``[t, 1]``: two ``(4, 2)``
    (de Casteljau: ``p01 = (1−t) p0 + t p1``, ..., the split point ``p0123``)."""
    p0, p1, p2, p3 = np.asarray(segment, np.float64)
    p01, p12, p23 = p0 + t * (p1 - p0), p1 + t * (p2 - p1), p2 + t * (p3 - p2)
    p012, p123 = p01 + t * (p12 - p01), p12 + t * (p23 - p12)
    p0123 = p012 + t * (p123 - p012)
    return np.array([p0, p01, p012, p0123]), np.array([p0123, p123, p23, p3])


def _chain_between(
    cp: np.ndarray, pressure: np.ndarray, start: tuple[int, float], stop: tuple[int, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The part of an open chain between positions ``(segment, t)`` ``start`` < ``stop``:
    ``(control points (3m + 1, 2), knot pressure (m + 1,))``."""
    (k0, t0), (k1, t1) = start, stop
    points: list[np.ndarray] = []
    knots: list[float] = []
    for k in range(k0, k1 + 1):
        seg = cp[3 * k : 3 * k + 4]
        a = t0 if k == k0 else 0.0
        b = t1 if k == k1 else 1.0
        if b <= a:
            continue
        piece = seg
        if a > 0.0:
            piece = split_cubic(piece, a)[1]
        if b < 1.0:  # the remaining parameter range [a, 1] is mapped to [0, 1]
            piece = split_cubic(piece, (b - a) / (1.0 - a))[0]
        if not points:
            points.append(piece[:1])
            knots.append(pressure[k] + a * (pressure[k + 1] - pressure[k]))
        points.append(piece[1:])
        knots.append(pressure[k] + b * (pressure[k + 1] - pressure[k]))
    if not points:  # an empty range: a dot at the start position
        seg = cp[3 * k0 : 3 * k0 + 4]
        dot = split_cubic(seg, t0)[0][3] if t0 > 0 else seg[0]
        value = pressure[k0] + t0 * (pressure[k0 + 1] - pressure[k0])
        return np.repeat(dot[None], 4, axis=0), np.array([value, value])
    return np.concatenate(points), np.array(knots)


def _rebuilt(stroke: Stroke, cp: np.ndarray, pressure: np.ndarray, closed: bool) -> Stroke:
    """``stroke`` with new geometry; curvature fields recomputed if the stroke carried them."""
    curvature, mean = None, None
    if stroke.curvature is not None or stroke.curvature_mean is not None:
        ((curvature, mean),) = chain_curvatures([cp])
    return stroke.evolve(
        control_points=cp,
        pressure=pressure,
        closed=closed,
        curvature=curvature if stroke.curvature is not None else None,
        curvature_mean=mean if stroke.curvature_mean is not None else None,
        points_3d=None,
    )


def cut_stroke(stroke: Stroke, positions: Sequence[tuple[int, float]]) -> list[Stroke]:
    """``stroke`` cut at ``positions`` ``[(segment, t), ...]`` (in curve order, strictly
    inside the stroke): the pieces, each open.

    An open stroke cut at ``n`` positions gives ``n + 1`` pieces in curve order. A closed one
    gives ``n``: first the piece that runs from the last cut through the stroke's start to
    the first cut, then the others in curve order. Pieces keep the stroke's id, layer, style
    and width; their curvature is recomputed.
    """
    cp = stroke.control_points.astype(np.float64)
    pressure = stroke.pressure.astype(np.float64)
    end = (stroke.segment_count - 1, 1.0)
    if not positions:
        return [stroke]
    bounds = list(positions)
    if not stroke.closed:
        bounds = [(0, 0.0), *bounds, end]
        spans = list(zip(bounds[:-1], bounds[1:], strict=True))
        return [_rebuilt(stroke, *_chain_between(cp, pressure, a, b), False) for a, b in spans]
    pieces = [
        _rebuilt(stroke, *_chain_between(cp, pressure, a, b), False)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    tail_cp, tail_p = _chain_between(cp, pressure, bounds[-1], end)
    head_cp, head_p = _chain_between(cp, pressure, (0, 0.0), bounds[0])
    if bounds[0] == (0, 0.0):  # cut at the start: nothing before the first cut
        head_cp, head_p = head_cp[:1], head_p[:1]
    wrap = _rebuilt(
        stroke,
        np.concatenate([tail_cp, head_cp[1:]]),
        np.concatenate([tail_p, head_p[1:]]),
        False,
    )
    return [wrap, *pieces]


def reversed_stroke(stroke: Stroke) -> Stroke:
    """The same curve traced from its last point to its first."""
    curvature = None if stroke.curvature is None else -stroke.curvature[::-1]
    return stroke.evolve(
        control_points=stroke.control_points[::-1].copy(),
        pressure=stroke.pressure[::-1].copy(),
        curvature=curvature,
    )


def join_strokes(first: Stroke, second: Stroke, closed: bool = False) -> Stroke:
    """``second`` appended to ``first`` (first's last point to second's first point, as
    given: orient them with :func:`reversed_stroke` beforehand). Ends further apart than
    half a pixel are joined by a straight segment; the result takes ``first``'s id, layer,
    style and width."""
    a = first.control_points.astype(np.float64)
    b = second.control_points.astype(np.float64)
    pa, pb = first.pressure.astype(np.float64), second.pressure.astype(np.float64)
    gap = b[0] - a[-1]
    if float(np.hypot(*gap)) > _SAME_POINT_PX:
        bridge = a[-1] + np.outer([1.0 / 3.0, 2.0 / 3.0], gap)
        cp = np.concatenate([a, bridge, b])
        pressure = np.concatenate([pa, pb])
    else:
        b = b.copy()
        b[1] += a[-1] - b[0]  # keep the tangent of second's first segment
        cp = np.concatenate([a, b[1:]])
        pressure = np.concatenate([pa[:-1], [0.5 * (pa[-1] + pb[0])], pb[1:]])
    return _rebuilt(first, cp, pressure, closed)
