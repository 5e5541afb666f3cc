"""Strokes and primitives back to pixels: anti-aliased, variable width (for previews and SSIM).

:func:`render_frame` returns ``(H, W)`` uint8 coverage, 255 = ink, the same convention as a
line map. Each stroke is the union of its segment pieces and knot discs
(:mod:`talos.axis.render.outline`), filled with OpenCV's anti-aliased polygon filler at
1/16 px precision. That filler uses the even-odd rule over all polygons of one call, so a call
only gets polygons that do not overlap: every other piece, every other disc.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from talos.axis.model import Circle, Stroke, Triangle
from talos.axis.render.outline import disc, segment_pieces, stroke_radii

SHIFT = 4
_SCALE = float(1 << SHIFT)


def _fixed(polygons: Iterable[np.ndarray]) -> list[np.ndarray]:
    return [np.rint(p * _SCALE).astype(np.int32).reshape(-1, 1, 2) for p in polygons]


def _fill(image: np.ndarray, polygons: Sequence[np.ndarray]) -> None:
    if len(polygons):
        cv2.fillPoly(image, _fixed(polygons), 255, cv2.LINE_AA, SHIFT)


def draw_stroke(
    image: np.ndarray, control_points: np.ndarray, radii: np.ndarray, closed: bool
) -> None:
    """Draw one Bézier chain of knot radii ``radii`` (px) onto ``image`` ``(H, W)`` uint8."""
    pieces = segment_pieces(control_points, radii)
    n = len(pieces)
    knots = np.asarray(control_points, np.float64)[::3]
    # A closed chain's first and last piece meet at the seam: keep them in different calls.
    odd_seam = closed and n % 2 == 1 and n > 1
    groups = [range(0, n - 1 if odd_seam else n, 2), range(1, n, 2)]
    if odd_seam:
        groups.append(range(n - 1, n))
    for group in groups:
        _fill(image, [pieces[i] for i in group])
    last = len(knots) - 1 if closed and len(knots) > 1 else len(knots)
    for start in (0, 1):
        _fill(image, [disc(knots[k], radii[k]) for k in range(start, last, 2)])


def render_frame(
    width: int,
    height: int,
    strokes: Sequence[Stroke],
    circles: Iterable[Circle] = (),
    triangles: Iterable[Triangle] = (),
) -> np.ndarray:
    """Coverage image ``(height, width)`` uint8 of everything in the frame (255 = ink)."""
    image = np.zeros((max(height, 0), max(width, 0)), np.uint8)
    if image.size == 0:
        return image
    for stroke in strokes:
        draw_stroke(image, stroke.control_points, stroke_radii(stroke), stroke.closed)
    for circle in circles:
        half = max(circle.width, 0.5) / 2.0
        outer = disc(np.array(circle.center), circle.radius + half)
        inner = disc(np.array(circle.center), max(circle.radius - half, 0.0))
        # Even-odd: the ring between the two polygons.
        _fill(image, [outer, inner] if circle.radius > half else [outer])
    for tri in triangles:
        edge = Stroke.from_polyline(np.array(tri.vertices), 0, closed=True, width=tri.width)
        draw_stroke(image, edge.control_points, stroke_radii(edge), True)
    return image
