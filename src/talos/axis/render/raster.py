"""Strokes and primitives back to pixels: anti-aliased, variable width (for previews and SSIM).

:func:`render_frame` returns ``(H, W)`` uint8 coverage, 255 = ink, the same convention as a
line map. Each stroke is the union of its segment pieces and knot discs
(:mod:`talos.axis.render.outline`), filled with OpenCV's anti-aliased polygon filler at
1/16 px precision into a 3× supersampled buffer that is then box-averaged down (exact area
coverage, like SVG renderers; OpenCV's own anti-aliased fill adds a halo to every polygon, and
a stroke is many polygons). The filler uses the even-odd rule over all polygons of one call,
so a call only gets polygons that do not overlap: every other piece, every other disc.
Coordinates are pixel centres at integers (OpenCV's convention).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from talos.axis.model import Circle, Stroke, Triangle
from talos.axis.render.outline import (
    all_segment_pieces,
    all_stroke_radii,
    disc,
    segment_pieces,
    stroke_radii,
)

SHIFT = 4
SUPERSAMPLE = 3
_SCALE = float(1 << SHIFT)


TILE = 64  # output px; only tiles that were drawn on are averaged down


class _Canvas:
    """A supersampled binary buffer; ``fill`` takes polygons in output pixel coordinates.

    The buffer starts as untouched zero pages; ``coverage`` box-averages only the tiles that
    polygons reached (a frame of lines is mostly empty)."""

    def __init__(self, width: int, height: int, factor: int = SUPERSAMPLE) -> None:
        self.size = (width, height)
        self.factor = factor
        self.buffer = np.zeros((height * factor, width * factor), np.uint8)
        # Output pixel x covers supersampled pixels x·S ... x·S + S - 1 (centres at integers).
        self.offset = (factor - 1) / 2.0
        self.touched = np.zeros((-(-height // TILE), -(-width // TILE)), bool)

    @property
    def bias(self) -> float:
        """OpenCV fills every pixel its polygon edges touch: outlines grow by about half a
        supersampled pixel, so radii are drawn that much smaller (in output px)."""
        return 0.5 / self.factor

    def fill(self, polygons: Sequence[np.ndarray]) -> None:
        if not len(polygons):
            return
        every = np.concatenate(polygons)
        (x0, y0), (x1, y1) = np.floor(every.min(0) - 1), np.ceil(every.max(0) + 1)
        rows, cols = self.touched.shape
        r0, r1 = int(np.clip(y0 // TILE, 0, rows - 1)), int(np.clip(y1 // TILE, 0, rows - 1))
        c0, c1 = int(np.clip(x0 // TILE, 0, cols - 1)), int(np.clip(x1 // TILE, 0, cols - 1))
        self.touched[r0 : r1 + 1, c0 : c1 + 1] = True
        scaled = [p * self.factor + self.offset for p in polygons]
        cv2.fillPoly(self.buffer, _fixed(scaled), 255, cv2.LINE_8, SHIFT)

    def coverage(self) -> np.ndarray:
        width, height = self.size
        if self.touched.mean() > 0.6:
            return cv2.resize(self.buffer, self.size, interpolation=cv2.INTER_AREA)
        out = np.zeros((height, width), np.uint8)
        f = self.factor
        for ty, tx in zip(*np.nonzero(self.touched), strict=True):
            y0, x0 = ty * TILE, tx * TILE
            y1, x1 = min(y0 + TILE, height), min(x0 + TILE, width)
            tile = self.buffer[y0 * f : y1 * f, x0 * f : x1 * f]
            out[y0:y1, x0:x1] = cv2.resize(tile, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        return out


def _fixed(polygons: Iterable[np.ndarray]) -> list[np.ndarray]:
    return [np.rint(p * _SCALE).astype(np.int32).reshape(-1, 1, 2) for p in polygons]


def draw_stroke(
    canvas: _Canvas,
    control_points: np.ndarray,
    radii: np.ndarray,
    closed: bool,
    pieces: np.ndarray | None = None,
) -> None:
    """Draw one Bézier chain of knot radii ``radii`` (px, less the canvas bias) onto
    ``canvas``; ``pieces`` are its :func:`segment_pieces` when already made."""
    pieces = segment_pieces(control_points, radii) if pieces is None else pieces
    n = len(pieces)
    knots = np.asarray(control_points, np.float64)[::3]
    # A closed chain's first and last piece meet at the seam: keep them in different calls.
    odd_seam = closed and n % 2 == 1 and n > 1
    groups = [range(0, n - 1 if odd_seam else n, 2), range(1, n, 2)]
    if odd_seam:
        groups.append(range(n - 1, n))
    for group in groups:
        canvas.fill([pieces[i] for i in group])
    last = len(knots) - 1 if closed and len(knots) > 1 else len(knots)
    for start in (0, 1):
        canvas.fill([disc(knots[k], radii[k]) for k in range(start, last, 2)])


def render_frame(
    width: int,
    height: int,
    strokes: Sequence[Stroke],
    circles: Iterable[Circle] = (),
    triangles: Iterable[Triangle] = (),
) -> np.ndarray:
    """Coverage image ``(height, width)`` uint8 of everything in the frame (255 = ink)."""
    if width <= 0 or height <= 0:
        return np.zeros((max(height, 0), max(width, 0)), np.uint8)
    strokes, circles, triangles = list(strokes), list(circles), list(triangles)
    if not (strokes or circles or triangles):
        return np.zeros((height, width), np.uint8)
    canvas = _Canvas(width, height)
    radii = [np.maximum(r - canvas.bias, 0.05) for r in all_stroke_radii(strokes)[0]]
    chains = [stroke.control_points for stroke in strokes]
    for stroke, r, pieces in zip(strokes, radii, all_segment_pieces(chains, radii), strict=True):
        draw_stroke(canvas, stroke.control_points, r, stroke.closed, pieces)
    for circle in circles:
        half = max(circle.width, 0.5) / 2.0 - canvas.bias
        outer = disc(np.array(circle.center), circle.radius + half)
        inner = disc(np.array(circle.center), max(circle.radius - half, 0.0))
        # Even-odd: the ring between the two polygons.
        canvas.fill([outer, inner] if circle.radius > half else [outer])
    for tri in triangles:
        edge = Stroke.from_polyline(np.array(tri.vertices), 0, closed=True, width=tri.width)
        drawn = np.maximum(stroke_radii(edge) - canvas.bias, 0.05)
        draw_stroke(canvas, edge.control_points, drawn, True)
    return canvas.coverage()
