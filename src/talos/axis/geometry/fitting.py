"""Ordered points to piecewise cubic Bézier chains (Schneider's algorithm).

Schneider (Graphics Gems, 1990): parametrise the points by chord length, solve the 2×2
least-squares system for the two handle lengths along the end tangents, measure the largest
deviation; if it is small, improve the parametrisation by Newton–Raphson and refit; if it is
still too large, split at the worst point (with a shared tangent there) and go on with both
halves. :func:`fit_beziers` runs this breadth first over all paths of a frame at once: every
round fits every open piece in one vectorised pass; Python runs once per round.
"""

from __future__ import annotations

import numpy as np

from talos.axis.geometry import ragged


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
    ends at the same knot (its first corner, or point 0). One path of :func:`fit_beziers`.
    """
    if len(points) == 0:
        raise ValueError("cannot fit an empty path")
    cs = np.zeros(0, int) if corners is None else np.asarray(corners, int)
    return fit_beziers([np.asarray(points, np.float64)], tolerance, [closed], [cs])[0]


def _units(v: np.ndarray) -> np.ndarray:
    """Rows of ``(k, 2)`` scaled to unit length; zero rows stay zero."""
    norm = np.hypot(v[:, 0], v[:, 1])
    return v / np.where(norm > 1e-12, norm, np.inf)[:, None]


class _Pieces:
    """Many pieces' points back to back, as flat coordinate arrays, with their end tangents.

    ``pts`` ``(N, 2)``, ``sizes`` ``(k,)`` (each at least 2), ``t1``/``t2`` ``(k, 2)`` unit
    end tangents (Schneider's convention: both point into the piece).
    """

    def __init__(self, pts: np.ndarray, sizes: np.ndarray, t1: np.ndarray, t2: np.ndarray):
        self.x, self.y = np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1])
        self.sizes = sizes
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.ends = self.starts + sizes - 1
        self.p0, self.p3 = pts[self.starts], pts[self.ends]
        self.t1, self.t2 = t1, t2
        self.chord = np.hypot(*(self.p3 - self.p0).T)

    def spread(self, values: np.ndarray) -> np.ndarray:
        """Per-piece values ``(k, ...)`` repeated for every point, ``(N, ...)``."""
        return np.repeat(values, self.sizes, axis=0)

    def chord_parameters(self) -> np.ndarray:
        """Chord-length parameter of every point in its piece, ``(N,)`` in [0, 1]."""
        step = np.zeros(len(self.x))
        step[1:] = np.hypot(np.diff(self.x), np.diff(self.y))
        step[self.starts] = 0.0
        cum = np.cumsum(step)
        cum -= self.spread(cum[self.starts])
        total = cum[self.ends]
        parameters: np.ndarray = cum / self.spread(np.where(total > 0, total, 1.0))
        return parameters

    def solve(self, u: np.ndarray) -> np.ndarray:
        """Least-squares handle lengths for parameters ``u``: Béziers ``(k, 4, 2)``.

        A cubic through each piece's end points with handles ``α₁·t₁``, ``α₂·t₂``; α₁, α₂
        solve the 2×2 normal equations, with the tangents (constant per piece) taken out of
        the sums: ``C₀₀ = |t₁|² Σ b₁²``, ``C₀₁ = t₁·t₂ Σ b₁b₂``,
        ``X₀ = t₁·Σ b₁p − t₁·p₀ Σ b₁(b₀ + b₁) − t₁·p₃ Σ b₁(b₂ + b₃)``, and so on, so all
        eleven per-piece sums are one ``np.add.reduceat``. A degenerate or negative solution
        falls back to a third of the chord (Wu–Barsky heuristic).
        """
        v = 1.0 - u
        b1, b2 = 3.0 * v * v * u, 3.0 * v * u * u
        head, tail = v * v * v + b1, b2 + u * u * u
        columns = np.stack(
            [
                b1 * b1,
                b2 * b2,
                b1 * b2,
                b1 * self.x,
                b1 * self.y,
                b2 * self.x,
                b2 * self.y,
                b1 * head,
                b1 * tail,
                b2 * head,
                b2 * tail,
            ],
            axis=1,
        )
        sums = np.add.reduceat(columns, self.starts, axis=0)
        t1, t2, p0, p3 = self.t1, self.t2, self.p0, self.p3
        c00 = sums[:, 0] * (t1 * t1).sum(1)
        c11 = sums[:, 1] * (t2 * t2).sum(1)
        c01 = sums[:, 2] * (t1 * t2).sum(1)
        x0 = t1[:, 0] * sums[:, 3] + t1[:, 1] * sums[:, 4]
        x0 -= (t1 * p0).sum(1) * sums[:, 7] + (t1 * p3).sum(1) * sums[:, 8]
        x1 = t2[:, 0] * sums[:, 5] + t2[:, 1] * sums[:, 6]
        x1 -= (t2 * p0).sum(1) * sums[:, 9] + (t2 * p3).sum(1) * sums[:, 10]
        det = c00 * c11 - c01 * c01
        good = np.abs(det) > 1e-12
        safe = np.where(good, det, 1.0)
        alpha1 = np.where(good, (x0 * c11 - x1 * c01) / safe, 0.0)
        alpha2 = np.where(good, (c00 * x1 - c01 * x0) / safe, 0.0)
        chord = self.chord
        eps = 1e-6 * chord
        bad = (alpha1 < eps) | (alpha2 < eps) | (alpha1 > 3 * chord) | (alpha2 > 3 * chord)
        alpha1 = np.where(bad, chord / 3, alpha1)[:, None]
        alpha2 = np.where(bad, chord / 3, alpha2)[:, None]
        return np.stack([p0, p0 + alpha1 * t1, p3 + alpha2 * t2, p3], axis=1)

    def residuals(
        self, bez: np.ndarray, u: np.ndarray, derivatives: bool = True
    ) -> tuple[np.ndarray, ...]:
        """Curve minus point at ``u`` per coordinate, then (with ``derivatives``) the first
        and second derivatives: ``(dx, dy[, d1x, d1y, d2x, d2y])``, each ``(N,)`` (power
        basis, Horner's rule)."""
        p0, p1, p2, p3 = bez[:, 0], bez[:, 1], bez[:, 2], bez[:, 3]
        a = self.spread(p3 - p0 + 3.0 * (p1 - p2))
        b = self.spread(3.0 * (p0 - 2.0 * p1 + p2))
        c = self.spread(3.0 * (p1 - p0))
        d = self.spread(p0)
        offsets, slopes, bends = [], [], []
        for axis, coordinate in ((0, self.x), (1, self.y)):
            ak, bk, ck = a[:, axis], b[:, axis], c[:, axis]
            offsets.append(((ak * u + bk) * u + ck) * u + d[:, axis] - coordinate)
            if derivatives:
                slopes.append((3.0 * ak * u + 2.0 * bk) * u + ck)
                bends.append(6.0 * ak * u + 2.0 * bk)
        return (*offsets, *slopes, *bends)

    def worst(self, bez: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Largest squared distance per piece ``(k,)`` and the index of that point within
        its piece ``(k,)`` (the first, on ties)."""
        dx, dy = self.residuals(bez, u, derivatives=False)
        err = dx * dx + dy * dy
        worst = np.maximum.reduceat(err, self.starts)
        at = np.flatnonzero(err >= self.spread(worst))
        piece = np.searchsorted(self.starts, at, side="right") - 1
        first = np.searchsorted(piece, np.arange(len(self.sizes)))
        return worst, at[first] - self.starts

    def refine(
        self, bez: np.ndarray, u: np.ndarray, iterations: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``iterations`` Newton–Raphson steps of every ``u`` towards its point's nearest
        curve parameter, refitting after each: the last Béziers ``(k, 4, 2)`` and ``u``."""
        for _ in range(iterations):
            dx, dy, d1x, d1y, d2x, d2y = self.residuals(bez, u)
            num = dx * d1x + dy * d1y
            den = d1x * d1x + d1y * d1y + dx * d2x + dy * d2y
            u = u - np.divide(num, den, out=np.zeros_like(num), where=np.abs(den) > 1e-12)
            u = np.clip(u, 0.0, 1.0)
            u[self.starts], u[self.ends] = 0.0, 1.0
            bez = self.solve(u)
        return bez, u


def fit_beziers(
    paths: list[np.ndarray],
    tolerance: float,
    closed: list[bool],
    corners: list[np.ndarray],
    max_rounds: int = 16,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`fit_bezier` of every path: ``[(control_points, knot_index), ...]``.

    Schneider's recursion runs breadth first over all paths together: every round fits all
    open pieces in one vectorised pass (:class:`_Pieces`), keeps those within
    ``tolerance`` px and splits the others at their worst point, with a shared tangent.
    """
    if not paths:
        return []
    count = len(paths)
    arrays = [np.asarray(p, np.float64).reshape(-1, 2) for p in paths]
    given = np.array([len(p) for p in arrays], np.int64)
    arrays = [np.vstack([p, p]) if len(p) == 1 else p for p in arrays]  # a dot: a 0-length line
    n = np.array([len(p) for p in arrays], np.int64)
    is_closed = np.asarray(closed, bool)
    starts = np.cumsum(n) - n
    # A closed path is rotated to start at its first corner and repeats that point at its
    # end; its pieces run between corners (or once round, from point 0 back to it).
    corner_count = np.array([len(c) for c in corners], np.int64)
    corner_path = np.repeat(np.arange(count), corner_count)
    corner_local = (
        np.concatenate([np.asarray(c, np.int64) for c in corners])
        if corner_count.sum()
        else np.zeros(0, np.int64)
    )
    first_index = np.minimum(np.cumsum(corner_count) - corner_count, len(corner_local) - 1)
    first_corner = corner_local[first_index] if len(corner_local) else np.zeros(count, np.int64)
    shift = np.where(is_closed & (corner_count > 0), first_corner, 0)
    m = n + is_closed
    offsets = np.cumsum(m) - m
    owner = np.repeat(np.arange(count), m)
    local = np.arange(m.sum()) - offsets[owner]
    wrapped = (local + shift[owner]) % n[owner]
    every = np.concatenate(arrays)[starts[owner] + np.where(is_closed[owner], wrapped, local)]
    corner_at = np.where(
        is_closed[corner_path],
        (corner_local - shift[corner_path]) % n[corner_path],
        corner_local,
    )
    break_path = np.concatenate([np.arange(count), np.arange(count), corner_path])
    break_at = np.concatenate([np.zeros(count, np.int64), m - 1, corner_at])
    order = np.lexsort((break_at, break_path))
    break_path, break_at = break_path[order], break_at[order]
    follows = (break_path[1:] == break_path[:-1]) & (break_at[1:] != break_at[:-1])
    path, a, b = break_path[:-1][follows], break_at[:-1][follows], break_at[1:][follows]
    reach = np.minimum(3, b - a)
    t1 = _units(every[offsets[path] + a + reach] - every[offsets[path] + a])
    t2 = _units(every[offsets[path] + b - reach] - every[offsets[path] + b])
    smooth_loop = (is_closed & (corner_count == 0))[path]  # the seam shares a tangent
    k = np.minimum(3, n[path] - 1)
    seam = _units(every[offsets[path] + k] - every[offsets[path] + m[path] - 1 - k])
    t1 = np.where(smooth_loop[:, None], seam, t1)
    t2 = np.where(smooth_loop[:, None], -seam, t2)
    tol2 = tolerance * tolerance
    done_path, done_a, done_b, done_bez = [], [], [], []
    for round_ in range(max_rounds):
        if len(path) == 0:
            break
        sizes = b - a + 1
        first = offsets[path] + a
        pts = every[np.repeat(first, sizes) + ragged.within(sizes)]
        pieces = _Pieces(pts, sizes, t1, t2)
        u = pieces.chord_parameters()
        bez = pieces.solve(u)
        worst, where = pieces.worst(bez, u)
        # Schneider: a near miss is worth reparametrising; a clear miss is split at once.
        near = np.flatnonzero((worst > tol2) & (worst <= 16 * tol2))
        if len(near):
            take = np.zeros(len(sizes), bool)
            take[near] = True
            points = np.repeat(take, sizes)
            retry = _Pieces(pts[points], sizes[near], t1[near], t2[near])
            bez[near], u_near = retry.refine(bez[near], u[points], 2)
            worst[near], where[near] = retry.worst(bez[near], u_near)
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
    # Each path's chain: its first segment's start, then every segment's three other points.
    first = np.searchsorted(seg_path, np.arange(count))
    segment_count = np.diff(np.append(first, len(seg_path)))
    rows = np.insert(seg_bez[:, 1:].reshape(-1, 2), 3 * first, seg_bez[first, 0], axis=0)
    knots = np.insert(seg_b, first, seg_a[first])
    knot_path = np.repeat(np.arange(count), segment_count + 1)
    knots = np.where(is_closed[knot_path], (knots + shift[knot_path]) % n[knot_path], knots)
    knots = np.minimum(knots, given[knot_path] - 1)  # a dot's two knots are its one point
    chains = ragged.split(rows, 3 * segment_count + 1)
    knot_lists = ragged.split(knots, segment_count + 1)
    return list(zip(chains, knot_lists, strict=True))
