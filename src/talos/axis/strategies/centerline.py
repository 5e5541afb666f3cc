"""Line map → one editable stroke per drawn line: centerlines fitted with Bézier chains.

1. Fill thin enclosed slivers (a wide line traced as two edges becomes one band again).
2. Thin the ink to 1-px centerlines; cut them into a stroke graph (nearby junctions merged,
   spurs pruned, ends that run into a line attached to it, gaps bridged, straight
   continuations joined through junctions and through the ink that lines crossing at a
   shallow angle share, loops kept closed); move each centerline point to
   the middle of the ink where thinning kept one side of a 2-px band.
3. Fit each path with Schneider's algorithm within ``tolerance`` px, corners kept as knots.
4. Pressure per knot from the local line width (distance transform), normalised by the
   stroke's widest knot (``Stroke.width``); analytic curvature per knot and its mean.
5. Closed paths that are circles or triangles become primitives instead of strokes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from talos.axis.geometry import path_batch
from talos.axis.geometry.bezier import chain_curvatures, chain_rows
from talos.axis.geometry.fitting import fit_beziers
from talos.axis.geometry.path_batch import PathBatch
from talos.axis.geometry.shapes import detect_circle, detect_triangle
from talos.axis.geometry.skeleton import fill_thin_holes, ink_distance, thin_pixels
from talos.axis.geometry.stroke_graph import extend_ends, trace_stroke_batch
from talos.axis.layers import style_classes
from talos.axis.strategies import VECTORIZERS, Vectorizer, VectorResult
from talos.axis.strokes import Circle, Stroke, Triangle, frozen_pieces, triangle_vertices
from talos.config import VectorizeSettings

WIDTH_WINDOW = 9  # centerline points averaged for the width at a knot (DT is noisy)


@VECTORIZERS.register("centerline")
class CenterlineVectorizer(Vectorizer):
    """Centerline strokes with pressure, plus circle and triangle primitives (see module)."""

    def __init__(self, vectorize: VectorizeSettings) -> None:
        self.v = vectorize

    def paths(self, line_map: np.ndarray) -> tuple[PathBatch, np.ndarray, np.ndarray | None]:
        """The ordered centerline paths (centred on the ink), the cleaned ink mask ``(H, W)``
        bool and its distance transform ``(H, W)`` px (None when there are no paths)."""
        ink = fill_thin_holes(line_map, self.v.fill_holes)
        skeleton = thin_pixels(ink)
        distance = ink_distance(ink)
        paths = trace_stroke_batch(
            skeleton,
            self.v.spur_length,
            self.v.gap,
            self.v.join_angle,
            self.v.attach_gap,
            distance,
        )
        if not len(paths):
            return paths, ink, None
        return path_batch.centre_on_ink(paths, ink, skeleton, distance), ink, distance

    def fit_all(self, paths: PathBatch, distance: np.ndarray) -> list[Stroke]:
        """Paths → :class:`Stroke` objects with pressure and curvature (ids in order).

        All paths are fitted together, breadth first (:func:`fit_beziers`).
        """
        batch = extend_ends(paths, distance)
        closed = batch.path_closed.tolist()
        smoothed = path_batch.smooth(batch, self.v.smoothing)
        corners = path_batch.corners(batch, smoothed, self.v.corner_angle)
        fits = fit_beziers(batch.split(smoothed), self.v.tolerance, closed, corners)
        if not fits:
            return []
        chains = [cp for cp, _ in fits]
        kappas = chain_curvatures(chains)
        # Per-knot widths and per-stroke sums for all strokes at once.
        knot_count = np.array([len(knots) for _, knots in fits])
        knot_start = np.cumsum(knot_count) - knot_count
        knots = np.concatenate([knots for _, knots in fits]) + np.repeat(batch.starts, knot_count)
        width_px = path_batch.widths(batch, distance, WIDTH_WINDOW)[knots]
        top = np.maximum.reduceat(width_px, knot_start)
        pressure = np.clip(width_px / np.repeat(top, knot_count), 0.0, 1.0)
        every = np.concatenate(chains)
        step = np.hypot(*np.diff(every, axis=0).T)
        chain_start, _ = chain_rows(knot_count)
        polygon = np.add.reduceat(np.append(step, 0.0), chain_start)
        polygon -= np.append(step[chain_start[1:] - 1], 0.0)  # the step between two chains
        styles = style_classes(
            polygon, np.add.reduceat(width_px, knot_start) / knot_count, self.v.detail_length
        )
        curvature = np.concatenate([kappa for kappa, _ in kappas])
        return [
            Stroke(
                stroke_id=i,
                control_points=cp,
                pressure=p,
                closed=is_closed,
                style_class=style,
                width=max(float(widest), 0.5),
                curvature=kappa,
                curvature_mean=kappa_mean,
            )
            for i, (cp, p, kappa, is_closed, style, widest, (_, kappa_mean)) in enumerate(
                zip(
                    frozen_pieces(every, 3 * knot_count - 2),
                    frozen_pieces(pressure, knot_count),
                    frozen_pieces(curvature, knot_count),
                    closed,
                    styles,
                    top.tolist(),
                    kappas,
                    strict=True,
                )
            )
        ]

    def vectorize(self, line_map: np.ndarray) -> VectorResult:
        lm = np.asarray(line_map)
        if lm.ndim != 2 or lm.size == 0:
            return VectorResult()
        paths, ink, widths = self.paths(lm)
        cleaned = ink.view(np.uint8) * np.uint8(255)
        if widths is None:
            return VectorResult(line_map=cleaned)
        to_fit = paths.lengths() >= self.v.min_length
        circles: list[Circle] = []
        triangles: list[Triangle] = []
        loops = to_fit & paths.path_closed & self.v.shapes
        if loops.any():
            candidates = paths.subset(loops)
            loop_widths = candidates.split(path_batch.widths(candidates, widths, WIDTH_WINDOW))
            loop_points = candidates.split(candidates.points)
            for i, points, width_px in zip(
                np.flatnonzero(loops), loop_points, loop_widths, strict=True
            ):
                width = float(np.median(width_px))
                found = detect_circle(points, True, self.v.circle_residual)
                if found is not None:
                    (x, y), radius = found
                    circles.append(Circle((float(x), float(y)), radius, width=width))
                    to_fit[i] = False
                    continue
                vertices = detect_triangle(points, True, self.v.triangle_residual)
                if vertices is not None:
                    triangles.append(Triangle(triangle_vertices(vertices), width=width))
                    to_fit[i] = False
        strokes_out = self.fit_all(paths.subset(to_fit), widths)
        next_id = len(strokes_out)
        circles = [replace(c, stroke_id=next_id + i) for i, c in enumerate(circles)]
        next_id += len(circles)
        triangles = [replace(t, stroke_id=next_id + i) for i, t in enumerate(triangles)]
        return VectorResult(tuple(strokes_out), tuple(circles), tuple(triangles), line_map=cleaned)
