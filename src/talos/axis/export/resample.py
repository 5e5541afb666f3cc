"""Tracks as animations: each track's strokes brought to one vertex count, and its keys
thinned where linear interpolation stays within a tolerance.

Lottie and SVG ``<animate>`` interpolate a path only between keys with the same commands, so
every frame of a track is redrawn with the same number of segments: the most any frame of the
track has (its detail). A frame with fewer segments has its longest ones split with de
Casteljau's construction, so the redrawn strokes are *exactly* the traced ones (no fitting
error); the extra knots go to the segments in proportion to their length (largest share
first), so that knots of consecutive frames stay near each other along the line. A frame
traced from the line's other end (or, for a closed line, from another point of the loop) is
turned round to run like the frame before it (:func:`align`).

All strokes of the shot are subdivided together in array operations; only the key reduction
runs per track.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from talos.axis.export.shot import Shot
from talos.axis.geometry import ragged
from talos.axis.geometry.bezier import chain_segments
from talos.axis.render.outline import all_stroke_radii
from talos.axis.strokes import Stroke

DEFAULT_TOLERANCE = 0.5  # px: key reduction's default
WIDTH_TOLERANCE_SHARE = 0.25  # widths are thinned at this share of the tolerance (px)


@dataclass(frozen=True)
class TrackAnimation:
    """One track, ready to key: ``frames`` ``(F,)`` exported frame numbers it lives in (in
    order); per frame ``vertices``, and ``in_tangents``/``out_tangents`` relative to them,
    ``(F, K, 2)`` px; ``widths`` ``(F,)`` px (the drawn width, pressure included, averaged
    along the stroke); ``spans`` the runs of consecutive frames, ``[(first, last), ...]``."""

    track_id: int
    layer: str
    closed: bool
    frames: np.ndarray
    vertices: np.ndarray
    in_tangents: np.ndarray
    out_tangents: np.ndarray
    widths: np.ndarray
    pressure: np.ndarray  # (F, K): pressure at each resampled knot, 0..1

    @property
    def knots(self) -> int:
        return int(self.vertices.shape[1])

    @property
    def spans(self) -> list[tuple[int, int]]:
        f = self.frames
        breaks = np.flatnonzero(np.diff(f) != 1)
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks, [len(f) - 1]])
        return [(int(f[a]), int(f[b])) for a, b in zip(starts, ends, strict=True)]

    def tangents_and_vertices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(in_tangents, out_tangents, vertices)``, Lottie's ``i``, ``o`` and ``v``."""
        return self.in_tangents, self.out_tangents, self.vertices

    def absolute(self) -> np.ndarray:
        """Every interpolated coordinate per frame, ``(F, 3K, 2)``: knots and both handles in
        absolute px (what linear interpolation between keys moves)."""
        v = self.vertices
        return np.concatenate([v, v + self.in_tangents, v + self.out_tangents], axis=1)


def _at(seg: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point and derivative of each segment ``(m, 4, 2)`` at its own ``t`` ``(m,)``."""
    t = t[:, None]
    u = 1.0 - t
    p0, p1, p2, p3 = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3]
    point = u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3
    deriv = 3 * u**2 * (p1 - p0) + 6 * u * t * (p2 - p1) + 3 * t**2 * (p3 - p2)
    return point, deriv


def subdivide(
    strokes: list[Stroke], segments: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The strokes redrawn with ``segments[i]`` Bézier segments each (at least as many as
    they have), exactly: ``(Σ segments, 4, 2)`` sub-segment control points in stroke order,
    and the pressure at the start and the end of each sub-segment (two ``(Σ segments,)``)."""
    counts = np.array([(len(s.control_points) - 1) // 3 for s in strokes], np.int64)
    segs = chain_segments([s.control_points for s in strokes])
    stroke_of = np.repeat(np.arange(len(strokes)), counts)
    # Length of each segment (its control polygon's, enough to share out the splits).
    lengths = np.hypot(*np.diff(segs, axis=1).transpose(2, 0, 1)).sum(axis=1) + 1e-9
    extra = np.asarray(segments, np.int64) - counts
    if (extra < 0).any():
        raise ValueError("subdivide cannot merge segments")
    # Candidates: segment j cut into p pieces has share len_j / p for p = 2 .. extra + 1; a
    # stroke takes its ``extra`` largest shares (largest-share-first allocation).
    seg_extra = extra[stroke_of]
    cand_seg = np.repeat(np.arange(len(segs)), seg_extra)
    cand_p = 2 + ragged.within(seg_extra)
    share = lengths[cand_seg] / cand_p
    order = np.lexsort((-share, stroke_of[cand_seg]))
    cand_stroke = stroke_of[cand_seg][order]
    # The candidates of stroke i sit in this order from index Σ_{<i} n_k·e_k; its first e_i
    # are taken.
    cand_counts = np.bincount(stroke_of, weights=seg_extra, minlength=len(strokes)).astype(np.int64)
    rank = ragged.within(cand_counts)
    taken = cand_seg[order][rank < extra[cand_stroke]]
    pieces = 1 + np.bincount(taken, minlength=len(segs))
    # Sub-segment k of segment j covers t in [k / p_j, (k + 1) / p_j]: its Hermite form is
    # exact for a cubic.
    sub_of = np.repeat(np.arange(len(segs)), pieces)
    k = ragged.within(pieces)
    p = pieces[sub_of].astype(np.float64)
    a, b = k / p, (k + 1) / p
    base = segs[sub_of]
    pa, da = _at(base, a)
    pb, db = _at(base, b)
    h = ((b - a) / 3.0)[:, None]
    sub = np.stack([pa, pa + h * da, pb - h * db, pb], axis=1)
    press = np.concatenate([np.asarray(s.pressure, np.float64) for s in strokes])
    knot0 = np.repeat(np.cumsum(counts + 1) - (counts + 1), counts) + ragged.within(counts)
    q0, q1 = press[knot0][sub_of], press[knot0 + 1][sub_of]
    return sub, q0 * (1 - a) + q1 * a, q0 * (1 - b) + q1 * b


def track_animations(shot: Shot) -> list[TrackAnimation]:
    """Every track of ``shot`` resampled to its constant knot count, in the order the tracks
    first appear. A track is a ``stroke_id`` (strokes the trace or an edit gave one id); a
    stroke id seen twice in one frame makes a second track for the later stroke."""
    groups: dict[tuple[int, int], list[tuple[int, Stroke]]] = defaultdict(list)
    for frame in shot.frames:
        seen: dict[int, int] = defaultdict(int)
        for stroke in frame.strokes:
            occurrence = seen[stroke.stroke_id]
            seen[stroke.stroke_id] += 1
            groups[(stroke.stroke_id, occurrence)].append((frame.position, stroke))
    if not groups:
        return []
    keys = list(groups)
    members = [groups[k] for k in keys]
    strokes = [s for m in members for _, s in m]
    track_of = np.repeat(np.arange(len(keys)), [len(m) for m in members])
    closed_track = np.ones(len(keys), bool)
    np.logical_and.at(closed_track, track_of, np.array([s.closed for s in strokes]))
    # A stroke is resampled closed only when its whole track is closed (one path kind).
    strokes = [
        s if s.closed == closed_track[t] else _with_closed(s, bool(closed_track[t]))
        for s, t in zip(strokes, track_of, strict=True)
    ]
    result = _exact_tracks(strokes, track_of, closed_track)
    radii, _ = all_stroke_radii(strokes)
    widths = np.array([2.0 * float(r.mean()) for r in radii])
    out = []
    for tr, key in enumerate(keys):
        rows = _rows(track_of, tr)
        v, i, o, p = result[tr]
        v, i, o, p = align(v, i, o, p, bool(closed_track[tr]))
        out.append(
            TrackAnimation(
                track_id=key[0],
                layer=members[tr][0][1].layer,
                closed=bool(closed_track[tr]),
                frames=np.array([f for f, _ in members[tr]], np.int64),
                vertices=v,
                in_tangents=i,
                out_tangents=o,
                widths=widths[rows],
                pressure=p,
            )
        )
    return out


def _rows(track_of: np.ndarray, track: int) -> np.ndarray:
    """Indices of ``track``'s strokes: ``track_of`` is sorted (strokes are stacked track by
    track), so they are one run, found by bisection (a scan per track is quadratic on a shot
    of thousands of tracks)."""
    lo, hi = np.searchsorted(track_of, [track, track + 1])
    return np.arange(lo, hi)


def _exact_tracks(
    strokes: list[Stroke], track_of: np.ndarray, closed_track: np.ndarray
) -> dict[int, tuple[np.ndarray, ...]]:
    """Per track, its frames subdivided to the track's most segments: vertices, in and out
    tangents (relative) ``(F, K, 2)`` and knot pressure ``(F, K)``."""
    n_tracks = len(closed_track)
    seg_counts = np.array([(len(s.control_points) - 1) // 3 for s in strokes], np.int64)
    track_segments = np.zeros(n_tracks, np.int64)
    np.maximum.at(track_segments, track_of, seg_counts)
    wanted = track_segments[track_of]
    sub, p_start, p_end = subdivide(strokes, wanted)
    sub_start = np.cumsum(wanted) - wanted
    result: dict[int, tuple[np.ndarray, ...]] = {}
    for tr in range(n_tracks):
        rows = _rows(track_of, tr)
        m = int(track_segments[tr])
        sel = (sub_start[rows][:, None] + np.arange(m)).ravel()
        q = sub[sel].reshape(len(rows), m, 4, 2)
        ps, pe = p_start[sel].reshape(len(rows), m), p_end[sel].reshape(len(rows), m)
        if closed_track[tr]:
            v = q[:, :, 0]
            o = q[:, :, 1] - v
            i = np.roll(q[:, :, 2], 1, axis=1) - v
            p = ps
        else:
            v = np.concatenate([q[:, :, 0], q[:, -1:, 3]], axis=1)
            o = np.concatenate([q[:, :, 1], q[:, -1:, 3]], axis=1) - v
            i = np.concatenate([q[:, :1, 0], q[:, :, 2]], axis=1) - v
            p = np.concatenate([ps, pe[:, -1:]], axis=1)
        result[tr] = (v, i, o, p)
    return result


def _with_closed(stroke: Stroke, closed: bool) -> Stroke:
    return Stroke(
        stroke_id=stroke.stroke_id,
        control_points=stroke.control_points,
        pressure=stroke.pressure,
        closed=closed,
        layer=stroke.layer,
        width=stroke.width,
    )


def reduce_keys(frames: np.ndarray, values: np.ndarray, tolerance: float) -> np.ndarray:
    """Which of a track's keys to keep, as indices into ``frames`` ``(F,)``: the first and
    last frame of every run of consecutive frames, and, between them, the fewest keys such
    that linear interpolation of ``values`` ``(F, ...)`` (positions in px, compared by
    Euclidean distance over the last axis) stays within ``tolerance`` of every dropped
    frame's values (:func:`reduce_by`)."""
    f = np.asarray(frames, np.int64)
    if len(f) <= 2:
        return np.arange(len(f))
    vals = np.asarray(values, np.float64).reshape(
        len(f), -1, values.shape[-1] if values.ndim > 1 else 1
    )

    def deviation(a: int, b: int) -> np.ndarray:
        w = ((f[a + 1 : b] - f[a]) / (f[b] - f[a]))[:, None, None]
        between = vals[a] * (1 - w) + vals[b] * w
        dev: np.ndarray = np.sqrt(((vals[a + 1 : b] - between) ** 2).sum(axis=2)).max(axis=1)
        return dev

    return reduce_by(f, deviation, tolerance)


def reduce_by(
    frames: np.ndarray, deviation: Callable[[int, int], np.ndarray], tolerance: float
) -> np.ndarray:
    """Ramer–Douglas–Peucker over time with any error: the first and last frame of every
    run of consecutive ``frames`` ``(F,)``, and between them the fewest keys such that
    ``deviation(a, b)`` (px, one per row strictly between rows ``a`` and ``b`` when only
    they are kept) stays within ``tolerance``. Returns the kept rows."""
    f = np.asarray(frames, np.int64)
    count = len(f)
    if count <= 2:
        return np.arange(count)
    keep = np.zeros(count, bool)
    breaks = np.flatnonzero(np.diff(f) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [count - 1]])
    keep[starts] = keep[ends] = True
    stack = [(int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a > 1]
    while stack:
        a, b = stack.pop()
        dev = deviation(a, b)
        worst = int(np.argmax(dev))
        if dev[worst] > tolerance:
            m = a + 1 + worst
            keep[m] = True
            if m - a > 1:
                stack.append((a, m))
            if b - m > 1:
                stack.append((m, b))
    return np.flatnonzero(keep)


def held_keys(frames: np.ndarray, values: np.ndarray, tolerance: float) -> np.ndarray:
    """Rows where a held value must change: the first frame of every run of consecutive
    ``frames``, and every frame whose ``values`` ``(F, M, D)`` are further than
    ``tolerance`` (largest Euclidean distance over the last axis) from the last key's."""
    keys: list[int] = [0]
    for f in range(1, len(frames)):
        gap = frames[f] != frames[f - 1] + 1
        change = np.sqrt(((values[f] - values[keys[-1]]) ** 2).sum(axis=-1)).max()
        if gap or change > tolerance:
            keys.append(f)
    return np.array(keys, np.int64)


def align(
    v: np.ndarray, i: np.ndarray, o: np.ndarray, p: np.ndarray, closed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One track's frames ``(F, K, ·)`` made to run the same way: each frame after the first
    is reversed (an open stroke traced from its other end) and, when closed, its seam moved
    round the loop, whichever brings its knots nearest the previous frame's. Without this
    every knot of a line traced the other way jumps across the line, and no key could be
    dropped."""
    v, i, o, p = v.copy(), i.copy(), o.copy(), p.copy()
    k = v.shape[1]
    shifts = np.arange(k) if closed else np.arange(1)
    # Candidate knot orders: every seam shift forwards, then every one backwards.
    forward = (np.arange(k)[None, :] + shifts[:, None]) % k
    orders = np.concatenate([forward, forward[:, ::-1]])
    for f in range(1, len(v)):
        cost = np.linalg.norm(v[f][orders] - v[f - 1], axis=2).sum(axis=1)
        best = int(np.argmin(cost))
        if best == 0:
            continue
        order = orders[best]
        if best >= len(shifts):  # reversed: in and out tangents swap roles
            i[f], o[f] = o[f][order], i[f][order]
        else:
            i[f], o[f] = i[f][order], o[f][order]
        v[f], p[f] = v[f][order], p[f][order]
    return v, i, o, p
