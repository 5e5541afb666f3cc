"""Strokes and primitives back to pixels: anti-aliased, variable width (for previews and SSIM).

:func:`render_frame` returns ``(H, W)`` uint8 coverage, 255 = ink, the same convention as a
line map. Each stroke is the union of its segment pieces and knot discs
(:mod:`talos.axis.render.outline`), filled with OpenCV's anti-aliased polygon filler at
1/16 px precision into a 3× supersampled buffer that is then box-averaged down (exact area
coverage, like SVG renderers; OpenCV's own anti-aliased fill adds a halo to every polygon, and
a stroke is many polygons). The polygon filler uses the even-odd rule over all polygons of
one call, so a call only gets polygons that do not overlap (every other piece of a stroke);
discs are convex and filled one by one. Coordinates are pixel centres at integers (OpenCV's
convention).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from talos.axis.geometry.bezier import chain_rows
from talos.axis.geometry.ragged import row_runs
from talos.axis.render.outline import all_segment_pieces, all_stroke_radii, disc, discs
from talos.axis.strokes import Circle, Stroke, Triangle

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

    def touch(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Mark the tiles under boxes ``lo``..``hi`` ``(k, 2)`` ``(x, y)`` output px as drawn."""
        rows, cols = self.touched.shape
        tiles = np.floor(np.concatenate([lo - 1, hi + 1], axis=1) / TILE).astype(np.int64)
        tiles = np.clip(tiles, 0, [cols - 1, rows - 1, cols - 1, rows - 1])
        for c0, r0, c1, r1 in tiles.tolist():
            self.touched[r0 : r1 + 1, c0 : c1 + 1] = True

    def fixed(self, points: np.ndarray) -> np.ndarray:
        """Output px ``(..., 2)`` float → the buffer's fixed-point coordinates, int32."""
        return np.rint((points * self.factor + self.offset) * _SCALE).astype(np.int32)

    def fill(self, polygons: Sequence[np.ndarray]) -> None:
        """Fill polygons given in output px (even-odd over the call: keep them apart)."""
        if not len(polygons):
            return
        every = np.concatenate(polygons)
        self.touch(every.min(0)[None], every.max(0)[None])
        self.fill_fixed([self.fixed(p) for p in polygons])

    def fill_fixed(self, polygons: Sequence[np.ndarray]) -> None:
        """Fill polygons already in fixed point (:meth:`fixed`), tiles already touched."""
        if len(polygons):
            cv2.fillPoly(self.buffer, polygons, 255, cv2.LINE_8, SHIFT)

    def fill_discs(self, centers: np.ndarray, radii: np.ndarray) -> None:
        """Filled discs, centres ``(k, 2)`` output px and radii ``(k,)``, tiles already
        touched: one convex fill each, so overlapping discs simply add up."""
        for polygon in discs(centers, radii):
            cv2.fillConvexPoly(self.buffer, self.fixed(polygon), 255, cv2.LINE_8, SHIFT)

    def coverage(self) -> np.ndarray:
        width, height = self.size
        if self.touched.mean() > 0.6:
            return cv2.resize(self.buffer, self.size, interpolation=cv2.INTER_AREA)
        out = np.zeros((height, width), np.uint8)
        f = self.factor
        # Runs of touched tiles along each tile row, averaged down as one strip each (an
        # output pixel is the mean of its own f×f block, so strips and tiles agree).
        for ty, t0, t1 in row_runs(self.touched):
            y0, x0 = ty * TILE, t0 * TILE
            y1, x1 = min(y0 + TILE, height), min(t1 * TILE, width)
            strip = self.buffer[y0 * f : y1 * f, x0 * f : x1 * f]
            out[y0:y1, x0:x1] = cv2.resize(strip, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        return out


def draw_strokes(
    canvas: _Canvas,
    chains: Sequence[np.ndarray],
    radii: Sequence[np.ndarray],
    closed: Sequence[bool],
) -> None:
    """Draw Bézier chains of knot radii (px, less the canvas bias) onto ``canvas``: their
    segment pieces, every other one per fill call, and a disc at every knot."""
    if not len(chains):
        return
    counts = np.array([len(r) for r in radii], np.int64)
    starts = np.cumsum(counts) - counts
    every_cp = np.concatenate([np.asarray(c, np.float64) for c in chains])
    cp_starts, knot_rows = chain_rows(counts)
    widest = np.maximum.reduceat(np.concatenate(radii), starts)[:, None]
    canvas.touch(
        np.minimum.reduceat(every_cp, cp_starts) - widest,
        np.maximum.reduceat(every_cp, cp_starts) + widest,
    )
    for pieces, is_closed in zip(all_segment_pieces(chains, radii), closed, strict=True):
        fixed = canvas.fixed(pieces)
        n = len(fixed)
        # A closed chain's first and last piece meet at the seam: keep them in different calls.
        odd_seam = is_closed and n % 2 == 1 and n > 1
        canvas.fill_fixed(list(fixed[0 : n - 1 if odd_seam else n : 2]))
        canvas.fill_fixed(list(fixed[1:n:2]))
        if odd_seam:
            canvas.fill_fixed([fixed[n - 1]])
    # A disc at every knot: round caps and joins (a closed chain's last knot is its first).
    knots = every_cp[knot_rows]
    keep = np.ones(len(knots), bool)
    loops = np.flatnonzero(np.asarray(closed, bool) & (np.asarray(counts) > 1))
    keep[starts[loops] + np.asarray(counts)[loops] - 1] = False
    canvas.fill_discs(knots[keep], np.concatenate(radii)[keep])


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
    draw_strokes(canvas, chains, radii, [stroke.closed for stroke in strokes])
    for circle in circles:
        half = max(circle.width, 0.5) / 2.0 - canvas.bias
        outer = disc(np.array(circle.center), circle.radius + half)
        inner = disc(np.array(circle.center), max(circle.radius - half, 0.0))
        # Even-odd: the ring between the two polygons.
        canvas.fill([outer, inner] if circle.radius > half else [outer])
    edges = [
        Stroke.from_polyline(np.array(tri.vertices), 0, closed=True, width=tri.width)
        for tri in triangles
    ]
    drawn = [np.maximum(r - canvas.bias, 0.05) for r in all_stroke_radii(edges)[0]]
    draw_strokes(canvas, [e.control_points for e in edges], drawn, [True] * len(edges))
    return canvas.coverage()
