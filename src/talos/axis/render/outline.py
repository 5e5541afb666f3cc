"""The ink a stroke covers: its variable-width outline, shared by the raster and SVG renderers.

A stroke of knot radii ``r_k = width · pressure_k / 2`` covers the union of

* one *piece* per Bézier segment: the band between the offset curves ``B(t) ± n(t)·r(t)``
  (``n`` the unit normal, ``r`` linear in ``t`` between the segment's knot radii), and
* one disc of radius ``r_k`` at every knot (round caps and round joins).

With a constant radius this is exactly SVG's ``stroke-linecap/linejoin: round`` stroke, so
strokes whose width varies by at most :data:`CONSTANT_WIDTH_TOLERANCE` px are drawn with their
mean width and written to SVG as plain stroked paths.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from talos.axis.geometry import ragged
from talos.axis.geometry.bezier import chain_segments, segment_derivatives, segment_points
from talos.axis.strokes import Stroke

CONSTANT_WIDTH_TOLERANCE = 1.0  # px of width variation drawn as one width
MIN_RADIUS = 0.25  # px; thinner ink is invisible anyway


def stroke_radii(stroke: Stroke) -> np.ndarray:
    """Drawn half-width at every knot, ``(n + 1,)`` px (constant when nearly so)."""
    return all_stroke_radii([stroke])[0][0]


def all_stroke_radii(strokes: Sequence[Stroke]) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`stroke_radii` of every stroke, and which of them are drawn with one width
    ``(k,)`` bool; all strokes' knots in one pass."""
    if not strokes:
        return [], np.zeros(0, bool)
    counts = np.array([len(s.pressure) for s in strokes])
    starts = np.cumsum(counts) - counts
    scale = np.repeat(np.array([s.width for s in strokes], np.float64), counts)
    pressure = np.concatenate([s.pressure for s in strokes]).astype(np.float64)
    widths = np.maximum(scale * pressure, 2 * MIN_RADIUS)
    spread = np.maximum.reduceat(widths, starts) - np.minimum.reduceat(widths, starts)
    constant = spread <= CONSTANT_WIDTH_TOLERANCE
    mean = np.add.reduceat(widths, starts) / counts
    widths = np.where(np.repeat(constant, counts), np.repeat(mean, counts), widths)
    return ragged.split(widths / 2.0, counts), constant


def segment_pieces(control_points: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Outline polygons of the segment pieces, ``(n, 2m, 2)``: left side forward, right side
    back, for ``n`` segments flattened to ``m`` samples each (about one per 2 px of the
    chain's longest control polygon, rounded up to a power of two from 4 to 64)."""
    return all_segment_pieces([control_points], [radii])[0]


def all_segment_pieces(
    chains: Sequence[np.ndarray], radii: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """:func:`segment_pieces` of many chains: the segments of all chains that are flattened
    to the same number of samples are offset together."""
    if not len(chains):
        return []
    counts = np.array([(len(c) - 1) // 3 for c in chains])
    starts = np.cumsum(counts) - counts
    seg = chain_segments(chains)
    polygon = np.hypot(*np.diff(seg, axis=1).transpose(2, 0, 1)).sum(1)
    # At least one sample per 2 px, rounded up to a power of two: a frame's segments then
    # fall into at most five groups, each flattened in one pass.
    wanted = np.clip(np.maximum.reduceat(polygon, starts) / 2.0, 4, 64)
    samples = (2 ** np.ceil(np.log2(wanted))).astype(int)
    r = np.concatenate([np.asarray(x, np.float64) for x in radii])
    # Knot k of chain c is row k + (segments before c) + c of the stacked radii.
    r0 = r[np.arange(len(seg)) + np.repeat(np.arange(len(chains)), counts)]
    r1 = r[np.arange(len(seg)) + np.repeat(np.arange(len(chains)), counts) + 1]
    chain_of = np.repeat(np.arange(len(chains)), counts)
    out: list[np.ndarray] = [np.zeros((0, 0, 2))] * len(chains)
    for m in np.unique(samples).tolist():
        which = np.flatnonzero(samples[chain_of] == m)
        t = np.linspace(0.0, 1.0, m)
        pts = segment_points(seg[which], t)  # (s, m, 2)
        d1, _ = segment_derivatives(seg[which], t)
        # A zero derivative (a handle on its knot) has the direction of the next difference.
        fallback = np.empty_like(pts)  # np.gradient along the samples, without its overhead
        fallback[:, 1:-1] = (pts[:, 2:] - pts[:, :-2]) / 2.0
        fallback[:, 0], fallback[:, -1] = pts[:, 1] - pts[:, 0], pts[:, -1] - pts[:, -2]
        speed = np.hypot(d1[..., 0], d1[..., 1])[..., None]
        tangent = np.where(speed > 1e-9, d1, fallback)
        tangent /= np.maximum(np.hypot(tangent[..., 0], tangent[..., 1])[..., None], 1e-12)
        normal = np.stack([-tangent[..., 1], tangent[..., 0]], axis=-1)
        radius = r0[which, None] + (r1[which] - r0[which])[:, None] * t[None, :]
        left = pts + normal * radius[..., None]
        right = pts - normal * radius[..., None]
        pieces = np.concatenate([left, right[:, ::-1]], axis=1)
        for c, block in zip(
            np.flatnonzero(samples == m).tolist(),
            ragged.split(pieces, counts[samples == m]),
            strict=True,
        ):
            out[c] = block
    return out


def disc_vertices(radius: np.ndarray | float) -> np.ndarray:
    """How many vertices a circle of ``radius`` px needs to stay within ~0.05 px of it
    (12 to 96): a chord of angle θ misses the arc by ``r·θ²/8``."""
    r = np.maximum(np.asarray(radius, np.float64), 0.1)
    return np.clip(np.ceil(np.pi / np.sqrt(0.1 / r)), 12, 96).astype(np.int64)


def discs(centers: np.ndarray, radii: np.ndarray) -> list[np.ndarray]:
    """Circles as polygons: one ``(k_i, 2)`` array per centre ``(n, 2)`` and radius ``(n,)``
    (:func:`disc_vertices` each), made in one pass per vertex count."""
    centers = np.asarray(centers, np.float64).reshape(-1, 2)
    radii = np.asarray(radii, np.float64).reshape(-1)
    k = disc_vertices(radii)
    out: list[np.ndarray] = [np.zeros((0, 2))] * len(radii)
    for count in np.unique(k).tolist():
        which = np.flatnonzero(k == count)
        a = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
        ring = np.stack([np.cos(a), np.sin(a)], axis=1)
        polygons = centers[which, None, :] + radii[which, None, None] * ring[None]
        for i, polygon in zip(which.tolist(), polygons, strict=True):
            out[i] = polygon
    return out


def disc(center: np.ndarray, radius: float) -> np.ndarray:
    """A circle as a polygon, ``(k, 2)``, fine enough to be within ~0.05 px of it."""
    return discs(np.asarray(center)[None], np.array([radius]))[0]
