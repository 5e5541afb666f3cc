"""Cubic Bézier chains: evaluation, derivatives, sampling, arc length and curvature.

A chain of ``n`` cubic segments is stored as ``control_points`` of shape ``(3n + 1, 2)``:
segment ``i`` is ``P[3i], P[3i+1], P[3i+2], P[3i+3]``, and neighbouring segments share their
end knot. With Bernstein weights ``B(t) = (1-t)³P₀ + 3(1-t)²t P₁ + 3(1-t)t² P₂ + t³P₃`` for
``t ∈ [0, 1]``; curvature is the signed ``κ = (x'y'' − y'x'') / (x'² + y'²)^{3/2}`` in 1/px
(positive turns clockwise in image coordinates, y down).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from talos.axis.geometry import ragged


def segments(control_points: np.ndarray) -> np.ndarray:
    """``(3n + 1, 2)`` chain → ``(n, 4, 2)`` array of per-segment control points."""
    cp = np.asarray(control_points, dtype=np.float64)
    n = (len(cp) - 1) // 3
    idx = 3 * np.arange(n)[:, None] + np.arange(4)[None, :]
    segs: npt.NDArray[np.float64] = cp[idx]
    return segs


def chain_rows(knot_counts: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Where chains of ``knot_counts`` knots sit when stacked back to back (a chain of ``k``
    knots has ``3k − 2`` rows): the row of each chain's first point ``(c,)`` and the row of
    every knot ``(Σk,)``. Knot ``g`` of the stack, in chain ``c``, is row ``3g − 2c``."""
    counts = np.asarray(knot_counts, np.int64)
    chain = np.arange(len(counts))
    knot_rows = 3 * np.arange(counts.sum()) - 2 * np.repeat(chain, counts)
    return 3 * (np.cumsum(counts) - counts) - 2 * chain, knot_rows


def chain_segments(chains: Sequence[np.ndarray]) -> np.ndarray:
    """The segments of many chains, stacked in order: ``(S, 4, 2)``."""
    counts = np.array([(len(c) - 1) // 3 + 1 for c in chains])
    every = np.concatenate([np.asarray(c, np.float64) for c in chains])
    _, knot_rows = chain_rows(counts)
    # A segment starts at every knot but a chain's last.
    first = np.delete(knot_rows, np.cumsum(counts) - 1)
    return every[first[:, None] + np.arange(4)]


def evaluate(control_points: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of every segment at parameters ``t`` (shape ``(m,)``): ``(n, m, 2)``."""
    return segment_points(segments(control_points), t)


def segment_points(seg: np.ndarray, t: np.ndarray) -> np.ndarray:
    """:func:`evaluate` for segments given as ``(n, 4, 2)`` control points."""
    t = np.asarray(t, dtype=np.float64)[None, :, None]
    u = 1.0 - t
    p0, p1, p2, p3 = (seg[:, k][:, None, :] for k in range(4))
    points: np.ndarray = u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3
    return points


def derivatives(control_points: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and second derivatives w.r.t. ``t`` of every segment: two ``(n, m, 2)`` arrays."""
    return segment_derivatives(segments(control_points), t)


def segment_derivatives(seg: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`derivatives` for segments given as ``(n, 4, 2)`` control points."""
    t = np.asarray(t, dtype=np.float64)[None, :, None]
    u = 1.0 - t
    p0, p1, p2, p3 = (seg[:, k][:, None, :] for k in range(4))
    d1 = 3 * u**2 * (p1 - p0) + 6 * u * t * (p2 - p1) + 3 * t**2 * (p3 - p2)
    d2 = 6 * u * (p2 - 2 * p1 + p0) + 6 * t * (p3 - 2 * p2 + p1)
    return d1, d2


def curvature(d1: np.ndarray, d2: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Signed curvature from derivative arrays ``(..., 2)`` (1/px); 0 where the speed is ~0."""
    cross = d1[..., 0] * d2[..., 1] - d1[..., 1] * d2[..., 0]
    speed = np.hypot(d1[..., 0], d1[..., 1])
    out: np.ndarray = np.zeros_like(cross)
    ok = speed > eps
    out[ok] = cross[ok] / speed[ok] ** 3
    return out


def knot_curvature(control_points: np.ndarray) -> np.ndarray:
    """Curvature at each knot, ``(n + 1,)``: the mean of the two segments meeting there."""
    d1, d2 = derivatives(control_points, np.array([0.0, 1.0]))
    k = curvature(d1, d2)  # (n, 2): start and end of each segment
    out = np.empty(k.shape[0] + 1)
    out[0] = k[0, 0]
    out[-1] = k[-1, 1]
    out[1:-1] = 0.5 * (k[:-1, 1] + k[1:, 0])
    return out


def sample(control_points: np.ndarray, per_segment: int = 16) -> np.ndarray:
    """A polyline through the chain, ``(n * per_segment + 1, 2)``, knots included."""
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)
    pts = evaluate(control_points, t).reshape(-1, 2)
    return np.vstack([pts, np.asarray(control_points, dtype=np.float64)[-1:]])


def arc_length(control_points: np.ndarray, per_segment: int = 16) -> float:
    """Length of the chain in px (polyline approximation with ``per_segment`` samples)."""
    pts = sample(control_points, per_segment)
    return float(np.hypot(*np.diff(pts, axis=0).T).sum())


def mean_abs_curvature(control_points: np.ndarray, per_segment: int = 16) -> float:
    """Arc-length-weighted mean of ``|κ|`` over the chain, 1/px: ``∫|κ| ds / ∫ ds``."""
    t = (np.arange(per_segment) + 0.5) / per_segment
    d1, d2 = derivatives(control_points, t)
    speed = np.hypot(d1[..., 0], d1[..., 1])
    total = speed.sum()
    if total <= 1e-9:
        return 0.0
    return float((np.abs(curvature(d1, d2)) * speed).sum() / total)


def chain_curvatures(
    chains: list[np.ndarray], per_segment: int = 16
) -> list[tuple[np.ndarray, float]]:
    """:func:`knot_curvature` and :func:`mean_abs_curvature` of many chains in one pass:
    ``[(knot κ (n + 1,), mean |κ|), ...]``, segments of all chains evaluated together."""
    if not chains:
        return []
    counts = np.array([(len(c) - 1) // 3 for c in chains])
    segs = chain_segments(chains)
    d1, d2 = segment_derivatives(segs, np.array([0.0, 1.0]))
    ends = curvature(d1, d2)  # (S, 2): at both ends of every segment
    t = (np.arange(per_segment) + 0.5) / per_segment
    d1, d2 = segment_derivatives(segs, t)
    speed = np.hypot(d1[..., 0], d1[..., 1])
    chain_start = np.cumsum(counts) - counts
    weighted = np.add.reduceat((np.abs(curvature(d1, d2)) * speed).sum(1), chain_start)
    length = np.add.reduceat(speed.sum(1), chain_start)
    means = np.divide(weighted, length, out=np.zeros(len(chains)), where=length > 1e-9)
    # The knot after each segment: the mean of the two segments meeting there, or the
    # segment's own end at a chain's last knot; each chain's first knot goes in front.
    last = np.zeros(len(segs), bool)
    last[np.cumsum(counts) - 1] = True
    after = np.where(last, ends[:, 1], 0.5 * (ends[:, 1] + np.roll(ends[:, 0], -1)))
    knots = np.insert(after, chain_start, ends[chain_start, 0])
    per_chain = ragged.split(knots, counts + 1)
    return list(zip(per_chain, means.tolist(), strict=True))
