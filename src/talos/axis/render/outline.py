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

import numpy as np

from talos.axis.geometry.bezier import derivatives, evaluate, segments
from talos.axis.model import Stroke

CONSTANT_WIDTH_TOLERANCE = 1.0  # px of width variation drawn as one width
MIN_RADIUS = 0.25  # px; thinner ink is invisible anyway


def stroke_radii(stroke: Stroke) -> np.ndarray:
    """Drawn half-width at every knot, ``(n + 1,)`` px (constant when nearly so)."""
    widths = np.maximum(stroke.width * np.asarray(stroke.pressure, np.float64), 2 * MIN_RADIUS)
    if widths.max() - widths.min() <= CONSTANT_WIDTH_TOLERANCE:
        widths = np.full_like(widths, widths.mean())
    return widths / 2.0


def is_constant_width(radii: np.ndarray) -> bool:
    return bool(np.ptp(radii) < 1e-9)


def samples_per_segment(control_points: np.ndarray) -> int:
    """How finely to flatten the segments of a chain: about one sample per 2 px."""
    seg = segments(control_points)
    polygon = np.hypot(*np.diff(seg, axis=1).transpose(2, 0, 1)).sum(1)
    return int(np.clip(np.ceil(polygon.max() / 2.0), 4, 64))


def segment_pieces(control_points: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Outline polygons of the segment pieces, ``(n, 2m, 2)``: left side forward, right side
    back, for ``n`` segments flattened to ``m`` samples each."""
    m = samples_per_segment(control_points)
    t = np.linspace(0.0, 1.0, m)
    pts = evaluate(control_points, t)  # (n, m, 2)
    d1, _ = derivatives(control_points, t)
    # A zero derivative (a handle on its knot) has the direction of the next difference.
    fallback = np.gradient(pts, axis=1)
    speed = np.hypot(d1[..., 0], d1[..., 1])[..., None]
    tangent = np.where(speed > 1e-9, d1, fallback)
    tangent /= np.maximum(np.hypot(tangent[..., 0], tangent[..., 1])[..., None], 1e-12)
    normal = np.stack([-tangent[..., 1], tangent[..., 0]], axis=-1)
    r = radii[:-1, None] + (radii[1:] - radii[:-1])[:, None] * t[None, :]
    left = pts + normal * r[..., None]
    right = pts - normal * r[..., None]
    return np.concatenate([left, right[:, ::-1]], axis=1)


def disc(center: np.ndarray, radius: float) -> np.ndarray:
    """A circle as a polygon, ``(k, 2)``, fine enough to be within ~0.05 px of it."""
    k = int(np.clip(np.ceil(np.pi / np.sqrt(0.1 / max(radius, 0.1))), 12, 96))
    a = np.linspace(0.0, 2 * np.pi, k, endpoint=False)
    return np.asarray(center, np.float64) + radius * np.stack([np.cos(a), np.sin(a)], axis=1)
