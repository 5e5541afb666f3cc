"""Ordered points to piecewise cubic Bézier chains (Schneider's algorithm) with pressure.

:func:`fit_bezier` fits a chain within a tolerance in px, splitting at corners first.
Schneider (Graphics Gems, 1990): parametrise the points by chord length, solve the 2×2
least-squares system for the two handle lengths along the end tangents, measure the largest
deviation; if it is small, improve the parametrisation by Newton–Raphson and refit; if it is
still too large, split at the worst point (with a shared tangent there) and recurse. All
per-point work is NumPy; Python runs once per fitted segment.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from talos.axis.geometry.bezier import evaluate

MAX_REPARAMETERIZE = 4


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return v / n if n > 1e-12 else np.zeros(2)


def chord_parameters(points: np.ndarray) -> np.ndarray:
    """Chord-length parameters in [0, 1] of ``(n, 2)`` points, ``(n,)``."""
    d = np.hypot(*np.diff(points, axis=0).T)
    u = np.concatenate([[0.0], np.cumsum(d)])
    return u / u[-1] if u[-1] > 0 else np.linspace(0.0, 1.0, len(points))


def _bernstein(u: np.ndarray) -> np.ndarray:
    v = 1.0 - u
    return np.stack([v**3, 3 * v**2 * u, 3 * v * u**2, u**3], axis=1)


def generate_bezier(
    points: np.ndarray, u: np.ndarray, tangent1: np.ndarray, tangent2: np.ndarray
) -> np.ndarray:
    """Least-squares cubic ``(4, 2)`` through the end points with handles along the tangents.

    ``tangent1`` points into the curve at its start, ``tangent2`` into it at its end
    (Schneider's convention). Handle lengths α₁, α₂ solve the normal equations; a degenerate
    or negative solution falls back to a third of the chord (Wu–Barsky heuristic).
    """
    p0, p3 = points[0], points[-1]
    b = _bernstein(u)
    a1 = b[:, 1:2] * tangent1
    a2 = b[:, 2:3] * tangent2
    c00, c01, c11 = float((a1 * a1).sum()), float((a1 * a2).sum()), float((a2 * a2).sum())
    tmp = points - (b[:, 0:1] + b[:, 1:2]) * p0 - (b[:, 2:3] + b[:, 3:4]) * p3
    x0, x1 = float((a1 * tmp).sum()), float((a2 * tmp).sum())
    det = c00 * c11 - c01 * c01
    chord = float(np.hypot(*(p3 - p0)))
    alpha1 = alpha2 = 0.0
    if abs(det) > 1e-12:
        alpha1 = (x0 * c11 - x1 * c01) / det
        alpha2 = (c00 * x1 - c01 * x0) / det
    eps = 1e-6 * chord
    if alpha1 < eps or alpha2 < eps or alpha1 > 3 * chord or alpha2 > 3 * chord:
        alpha1 = alpha2 = chord / 3.0
    return np.array([p0, p0 + alpha1 * tangent1, p3 + alpha2 * tangent2, p3])


def _errors(bez: np.ndarray, points: np.ndarray, u: np.ndarray) -> np.ndarray:
    d = evaluate(bez, u)[0] - points
    return d[:, 0] ** 2 + d[:, 1] ** 2


def _reparameterize(bez: np.ndarray, points: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One Newton–Raphson step per point towards the nearest curve parameter."""
    v = 1.0 - u
    p0, p1, p2, p3 = bez
    q = (v**3)[:, None] * p0 + (3 * v**2 * u)[:, None] * p1
    q += (3 * v * u**2)[:, None] * p2 + (u**3)[:, None] * p3
    q1 = (3 * v**2)[:, None] * (p1 - p0) + (6 * v * u)[:, None] * (p2 - p1)
    q1 += (3 * u**2)[:, None] * (p3 - p2)
    q2 = (6 * v)[:, None] * (p2 - 2 * p1 + p0) + (6 * u)[:, None] * (p3 - 2 * p2 + p1)
    diff = q - points
    num = (diff * q1).sum(1)
    den = (q1 * q1).sum(1) + (diff * q2).sum(1)
    step = np.divide(num, den, out=np.zeros_like(num), where=np.abs(den) > 1e-12)
    new = np.clip(u - step, 0.0, 1.0)
    new[0], new[-1] = 0.0, 1.0
    return np.maximum.accumulate(new)


def _fit_cubic(
    points: np.ndarray,
    t1: np.ndarray,
    t2: np.ndarray,
    tol2: float,
    out: list[np.ndarray],
    ends: list[int],
    offset: int,
) -> None:
    """Append the fitted segments to ``out`` and their end indices (+ offset) to ``ends``."""
    n = len(points)
    ends_at = offset + n - 1
    if n <= 2:
        chord = float(np.hypot(*(points[-1] - points[0]))) / 3.0
        p0, p3 = points[0], points[-1]
        out.append(np.array([p0, p0 + t1 * chord, p3 + t2 * chord, p3]))
        ends.append(ends_at)
        return
    u = chord_parameters(points)
    bez = generate_bezier(points, u, t1, t2)
    err = _errors(bez, points, u)
    worst = int(np.argmax(err))
    if err[worst] <= tol2:
        out.append(bez)
        ends.append(ends_at)
        return
    if err[worst] <= 16 * tol2:
        for _ in range(MAX_REPARAMETERIZE):
            u = _reparameterize(bez, points, u)
            bez = generate_bezier(points, u, t1, t2)
            err = _errors(bez, points, u)
            worst = int(np.argmax(err))
            if err[worst] <= tol2:
                out.append(bez)
                ends.append(ends_at)
                return
    split = min(max(worst, 1), n - 2)
    center = _unit(points[split - 1] - points[split + 1])
    if not center.any():  # the path doubles back here: use the incoming direction
        center = _unit(points[split - 1] - points[split])
    _fit_cubic(points[: split + 1], t1, center, tol2, out, ends, offset)
    _fit_cubic(points[split:], -center, t2, tol2, out, ends, offset + split)


def _end_tangents(points: np.ndarray, reach: int = 3) -> tuple[np.ndarray, np.ndarray]:
    k = min(reach, len(points) - 1)
    return _unit(points[k] - points[0]), _unit(points[-1 - k] - points[-1])


def find_corners(
    points: np.ndarray, closed: bool, angle_deg: float = 60.0, reach: int = 4
) -> np.ndarray:
    """Indices of corners: local maxima of the turn angle over ``±reach`` points that
    exceed ``angle_deg``. Ends of open paths are not reported."""
    n = len(points)
    if n < 2 * reach + 3:
        return np.zeros(0, int)
    mode = "wrap" if closed else "nearest"
    idx = np.arange(n)
    before = points[(idx - reach) % n] if closed else points[np.maximum(idx - reach, 0)]
    after = points[(idx + reach) % n] if closed else points[np.minimum(idx + reach, n - 1)]
    a, b = points - before, after - points
    na, nb = np.hypot(*a.T), np.hypot(*b.T)
    cos = np.einsum("ij,ij->i", a, b) / np.maximum(na * nb, 1e-12)
    turn = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    if not closed:
        turn[:reach] = turn[n - reach :] = 0.0
    peak = (turn >= maximum_filter1d(turn, 2 * reach + 1, mode=mode)) & (turn > angle_deg)
    corners = np.flatnonzero(peak)
    if len(corners) > 1:  # plateaus: keep the first index of each run
        keep = np.concatenate([[True], np.diff(corners) > reach])
        corners = corners[keep]
    return corners


def smooth_path(points: np.ndarray, closed: bool, window: int = 3) -> np.ndarray:
    """Moving average of ``(n, 2)`` points (removes the pixel staircase); ends stay put."""
    if len(points) < window + 2 or window < 2:
        return points.astype(np.float64)
    mode = "wrap" if closed else "nearest"
    out = uniform_filter1d(points.astype(np.float64), window, axis=0, mode=mode)
    if not closed:
        out[0], out[-1] = points[0], points[-1]
    return out


def fit_bezier(
    points: np.ndarray,
    tolerance: float = 1.0,
    closed: bool = False,
    corners: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit a cubic Bézier chain to ordered ``(n, 2)`` points within ``tolerance`` px.

    Returns ``(control_points (3k + 1, 2), knot_index (k + 1,))``: the knots lie on the
    points ``points[knot_index]``. ``corners`` (indices) are kept as knots with free tangents
    on either side; elsewhere neighbouring segments share a tangent. A closed path starts and
    ends at the same knot (its first corner, or point 0).
    """
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    if n == 0:
        raise ValueError("cannot fit an empty path")
    if n == 1:
        pts = np.vstack([pts, pts])
        n = 2
    corners = np.zeros(0, int) if corners is None else np.asarray(corners, int)
    if closed:
        start = int(corners[0]) if len(corners) else 0
        pts = np.vstack([np.roll(pts, -start, axis=0), np.roll(pts, -start, axis=0)[:1]])
        breaks = np.unique(np.concatenate([[0], (corners - start) % n, [n]]))
    else:
        breaks = np.unique(np.concatenate([[0], corners, [n - 1]]))
    tol2 = tolerance * tolerance
    segs: list[np.ndarray] = []
    knot_index = [0]
    for a, b in zip(breaks[:-1], breaks[1:], strict=True):
        piece = pts[a : b + 1]
        t1, t2 = _end_tangents(piece)
        if closed and len(corners) == 0:  # one smooth loop: the seam shares a tangent
            t1 = _unit(pts[min(3, n - 1)] - pts[-1 - min(3, n - 1)])
            t2 = -t1
        _fit_cubic(piece, t1, t2, tol2, segs, knot_index, int(a))
    cp = np.empty((3 * len(segs) + 1, 2))
    cp[0] = segs[0][0]
    for i, s in enumerate(segs):
        cp[3 * i + 1 : 3 * i + 4] = s[1:]
    idx = np.asarray(knot_index, int)
    if closed:
        idx = (idx + (int(corners[0]) if len(corners) else 0)) % n
    return cp, idx


def _fit_pieces(
    pts: np.ndarray,
    sizes: np.ndarray,
    t1: np.ndarray,
    t2: np.ndarray,
    iterations: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One least-squares cubic per piece, for many pieces at once.

    ``pts`` ``(N, 2)`` holds the pieces' points back to back (``sizes`` ``(k,)`` each, at
    least 2); ``t1``/``t2`` ``(k, 2)`` their unit end tangents (Schneider's convention).
    Same fit and Newton reparametrisation as :func:`fit_bezier`, summed per piece with
    ``np.bincount``. Returns ``(beziers (k, 4, 2), worst squared error (k,), index of the
    worst point within its piece (k,))``.
    """
    k = len(sizes)
    seg = np.repeat(np.arange(k), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ends = starts + sizes - 1
    step = np.zeros(len(pts))
    step[1:] = np.hypot(*np.diff(pts, axis=0).T)
    step[starts] = 0.0
    cum = np.cumsum(step)
    cum -= cum[starts][seg]
    total = cum[ends]
    u = cum / np.where(total > 0, total, 1.0)[seg]
    p0, p3 = pts[starts], pts[ends]
    chord = np.hypot(*(p3 - p0).T)

    def per_piece(v: np.ndarray) -> np.ndarray:
        return np.bincount(seg, v, k)

    def solve(u: np.ndarray) -> np.ndarray:
        b = _bernstein(u)
        a1 = b[:, 1:2] * t1[seg]
        a2 = b[:, 2:3] * t2[seg]
        tmp = pts - (b[:, 0:1] + b[:, 1:2]) * p0[seg] - (b[:, 2:3] + b[:, 3:4]) * p3[seg]
        c00, c01 = per_piece((a1 * a1).sum(1)), per_piece((a1 * a2).sum(1))
        c11 = per_piece((a2 * a2).sum(1))
        x0, x1 = per_piece((a1 * tmp).sum(1)), per_piece((a2 * tmp).sum(1))
        det = c00 * c11 - c01 * c01
        good = np.abs(det) > 1e-12
        safe = np.where(good, det, 1.0)
        alpha1 = np.where(good, (x0 * c11 - x1 * c01) / safe, 0.0)
        alpha2 = np.where(good, (c00 * x1 - c01 * x0) / safe, 0.0)
        eps = 1e-6 * chord
        bad = (alpha1 < eps) | (alpha2 < eps) | (alpha1 > 3 * chord) | (alpha2 > 3 * chord)
        alpha1 = np.where(bad, chord / 3, alpha1)[:, None]
        alpha2 = np.where(bad, chord / 3, alpha2)[:, None]
        return np.stack([p0, p0 + alpha1 * t1, p3 + alpha2 * t2, p3], axis=1)

    def curve(bez: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = bez[seg]
        v = (1.0 - u)[:, None]
        w = u[:, None]
        q = v**3 * c[:, 0] + 3 * v**2 * w * c[:, 1] + 3 * v * w**2 * c[:, 2] + w**3 * c[:, 3]
        q1 = 3 * v**2 * (c[:, 1] - c[:, 0]) + 6 * v * w * (c[:, 2] - c[:, 1])
        q1 += 3 * w**2 * (c[:, 3] - c[:, 2])
        q2 = 6 * v * (c[:, 2] - 2 * c[:, 1] + c[:, 0]) + 6 * w * (c[:, 3] - 2 * c[:, 2] + c[:, 1])
        return q, q1, q2

    bez = solve(u)
    for _ in range(iterations):
        q, q1, q2 = curve(bez, u)
        diff = q - pts
        num = (diff * q1).sum(1)
        den = (q1 * q1).sum(1) + (diff * q2).sum(1)
        u = u - np.divide(num, den, out=np.zeros_like(num), where=np.abs(den) > 1e-12)
        u = np.clip(u, 0.0, 1.0)
        u[starts], u[ends] = 0.0, 1.0
        bez = solve(u)
    q, _, _ = curve(bez, u)
    err = ((q - pts) ** 2).sum(1)
    worst = np.maximum.reduceat(err, starts)
    at_worst = np.flatnonzero(err >= worst[seg])
    _, first = np.unique(seg[at_worst], return_index=True)
    worst_index = at_worst[first] - starts
    return bez, worst, worst_index


def fit_beziers(
    paths: list[np.ndarray],
    tolerance: float,
    closed: list[bool],
    corners: list[np.ndarray],
    max_rounds: int = 16,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`fit_bezier` for many paths at once: ``[(control_points, knot_index), ...]``.

    Schneider's recursion runs breadth first over all paths together: every round fits all
    open pieces in one vectorised pass (:func:`_fit_pieces`), keeps those within
    ``tolerance`` px and splits the others at their worst point, with a shared tangent.
    """
    if not paths:
        return []
    prepared: list[np.ndarray] = []
    shift: list[int] = []
    pieces: list[tuple[int, int, int, np.ndarray, np.ndarray]] = []  # path, a, b, t1, t2
    for i, (raw, is_closed, cs) in enumerate(zip(paths, closed, corners, strict=True)):
        pts = np.asarray(raw, np.float64)
        if len(pts) == 1:
            pts = np.vstack([pts, pts])
        n = len(pts)
        cs = np.asarray(cs, int)
        if is_closed:
            start = int(cs[0]) if len(cs) else 0
            rolled = np.roll(pts, -start, axis=0)
            pts = np.vstack([rolled, rolled[:1]])
            breaks = np.unique(np.concatenate([[0], (cs - start) % n, [n]]))
            shift.append(start)
        else:
            breaks = np.unique(np.concatenate([[0], cs, [n - 1]]))
            shift.append(0)
        prepared.append(pts)
        for a, b in zip(breaks[:-1], breaks[1:], strict=True):
            t1, t2 = _end_tangents(pts[a : b + 1])
            if is_closed and len(cs) == 0:  # one smooth loop: the seam shares a tangent
                t1 = _unit(pts[min(3, n - 1)] - pts[-1 - min(3, n - 1)])
                t2 = -t1
            pieces.append((i, int(a), int(b), t1, t2))
    tol2 = tolerance * tolerance
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in prepared])[:-1]]).astype(np.int64)
    every = np.concatenate(prepared)
    path = np.array([p[0] for p in pieces], np.int64)
    a = np.array([p[1] for p in pieces], np.int64)
    b = np.array([p[2] for p in pieces], np.int64)
    t1 = np.array([p[3] for p in pieces], np.float64).reshape(-1, 2)
    t2 = np.array([p[4] for p in pieces], np.float64).reshape(-1, 2)
    done_path, done_a, done_b, done_bez = [], [], [], []
    for round_ in range(max_rounds):
        if len(path) == 0:
            break
        sizes = b - a + 1
        first = offsets[path] + a
        within = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        pts = every[np.repeat(first, sizes) + within]
        bez, worst, where = _fit_pieces(pts, sizes, t1, t2, iterations=0)
        # Schneider: a near miss is worth reparametrising; a clear miss is split at once.
        near = np.flatnonzero((worst > tol2) & (worst <= 16 * tol2))
        if len(near):
            take = np.zeros(len(sizes), bool)
            take[near] = True
            b2, w2, i2 = _fit_pieces(pts[np.repeat(take, sizes)], sizes[near], t1[near], t2[near])
            bez[near], worst[near], where[near] = b2, w2, i2
        accept = (worst <= tol2) | (b - a < 2) | (round_ == max_rounds - 1)
        done_path.append(path[accept])
        done_a.append(a[accept])
        done_b.append(b[accept])
        done_bez.append(bez[accept])
        keep = ~accept
        path, a, b, t1, t2, where = path[keep], a[keep], b[keep], t1[keep], t2[keep], where[keep]
        split = a + np.clip(where, 1, b - a - 1)
        at = offsets[path] + split
        center = every[at - 1] - every[at + 1]
        fallback = every[at - 1] - every[at]  # the path doubles back: incoming direction
        norm = np.hypot(*center.T)
        center = np.where((norm > 1e-12)[:, None], center, fallback)
        center /= np.maximum(np.hypot(*center.T), 1e-12)[:, None]
        path = np.concatenate([path, path])
        a, b = np.concatenate([a, split]), np.concatenate([split, b])
        t1, t2 = np.concatenate([t1, -center]), np.concatenate([center, t2])
    seg_path = np.concatenate(done_path)
    seg_a, seg_b = np.concatenate(done_a), np.concatenate(done_b)
    seg_bez = np.concatenate(done_bez)
    order = np.lexsort((seg_a, seg_path))
    seg_path, seg_a, seg_b, seg_bez = seg_path[order], seg_a[order], seg_b[order], seg_bez[order]
    bounds = np.searchsorted(seg_path, np.arange(len(prepared) + 1))
    out = []
    for i, pts in enumerate(prepared):
        lo, hi = bounds[i], bounds[i + 1]
        cp = np.concatenate([seg_bez[lo, :1], seg_bez[lo:hi, 1:].reshape(-1, 2)])
        knots = np.concatenate([seg_a[lo : lo + 1], seg_b[lo:hi]])
        if closed[i]:
            knots = (knots + shift[i]) % (len(pts) - 1)
        out.append((cp, knots))
    return out
