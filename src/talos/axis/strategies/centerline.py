"""Line map → one editable stroke per drawn line: centerlines fitted with Bézier chains.

1. Fill thin enclosed slivers (a wide line traced as two edges becomes one band again).
2. Thin the ink to 1-px centerlines; cut them into a stroke graph (spurs pruned, gaps bridged,
   straight continuations joined through junctions, loops kept closed).
3. Fit each path with Schneider's algorithm within ``tolerance`` px, corners kept as knots.
4. Pressure per knot from the local line width (distance transform), normalised by the
   stroke's widest knot (``Stroke.width``); analytic curvature per knot and its mean.
5. Closed paths that are circles or triangles become primitives instead of strokes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from talos.axis.geometry import path_batch
from talos.axis.geometry.bezier import chain_curvatures
from talos.axis.geometry.fitting import (
    fit_beziers,
)
from talos.axis.geometry.path_batch import PathBatch
from talos.axis.geometry.shapes import detect_circle, detect_triangle
from talos.axis.geometry.skeleton import fill_thin_holes, ink_distance, thin
from talos.axis.geometry.stroke_graph import StrokePath, extend_ends, trace_strokes
from talos.axis.layers import style_classes
from talos.axis.model import Circle, Stroke, Triangle
from talos.axis.strategies import VECTORIZERS, Vectorizer, VectorResult
from talos.config import Settings

WIDTH_WINDOW = 9  # centerline points averaged for the width at a knot (DT is noisy)


def path_widths(path: StrokePath, distance: np.ndarray) -> np.ndarray:
    """Line width in px at every point of ``path`` (smoothed along it), ``(n,)``, from the
    ink's distance transform ``(H, W)`` (:func:`~talos.axis.geometry.skeleton.ink_distance`)."""
    return path_batch.widths(PathBatch([path.points], [path.closed]), distance, WIDTH_WINDOW)


@VECTORIZERS.register("centerline")
class CenterlineVectorizer(Vectorizer):
    """Centerline strokes with pressure, plus circle and triangle primitives (see module)."""

    def __init__(self, settings: Settings) -> None:
        self.v = settings.vectorize

    def paths(self, line_map: np.ndarray) -> tuple[list[StrokePath], np.ndarray]:
        """The cleaned ink mask ``(H, W)`` bool and its ordered centerline paths."""
        ink = fill_thin_holes(line_map, self.v.fill_holes)
        skeleton = thin(ink)
        paths = trace_strokes(skeleton, self.v.spur_length, self.v.gap, self.v.join_angle)
        return paths, ink

    def fit_all(self, paths: list[StrokePath], distance: np.ndarray) -> list[Stroke]:
        """Paths → :class:`Stroke` objects with pressure and curvature (ids in order).

        All paths are fitted together, breadth first (:func:`fit_beziers`).
        """
        paths = extend_ends(paths, distance > 0, distance)
        batch = PathBatch([p.points for p in paths], [p.closed for p in paths])
        smoothed = path_batch.smooth(batch, self.v.smoothing)
        corners = path_batch.corners(batch, smoothed, self.v.corner_angle)
        points = batch.split(smoothed)
        fits = fit_beziers(points, self.v.tolerance, [p.closed for p in paths], corners)
        kappas = chain_curvatures([cp for cp, _ in fits])
        per_point = batch.split(path_batch.widths(batch, distance, WIDTH_WINDOW))
        widths = [w[knots] for w, (_, knots) in zip(per_point, fits, strict=True)]
        styles = style_classes(
            [float(np.hypot(*np.diff(cp, axis=0).T).sum()) for cp, _ in fits],
            [float(w.mean()) for w in widths],
            self.v.detail_length,
        )
        strokes = []
        for i, (path, (cp, _), (kappa, kappa_mean), width_px) in enumerate(
            zip(paths, fits, kappas, widths, strict=True)
        ):
            top = float(width_px.max())
            pressure = np.clip(width_px / top, 0.0, 1.0) if top > 0 else np.ones(len(width_px))
            strokes.append(
                Stroke(
                    stroke_id=i,
                    control_points=cp,
                    pressure=pressure,
                    closed=path.closed,
                    style_class=styles[i],
                    width=max(top, 0.5),
                    curvature=kappa,
                    curvature_mean=kappa_mean,
                )
            )
        return strokes

    def vectorize(self, line_map: np.ndarray) -> VectorResult:
        lm = np.asarray(line_map)
        if lm.ndim != 2 or lm.size == 0:
            return VectorResult()
        paths, ink = self.paths(lm)
        cleaned = np.where(ink, np.uint8(255), np.uint8(0))
        if not paths:
            return VectorResult(line_map=cleaned)
        widths = ink_distance(ink)
        to_fit: list[StrokePath] = []
        circles: list[Circle] = []
        triangles: list[Triangle] = []
        for path in paths:
            if path.length < self.v.min_length:
                continue
            if self.v.shapes and path.closed:
                found = detect_circle(path.points, True, self.v.circle_residual)
                if found is not None:
                    center, radius = found
                    xy = (float(center[0]), float(center[1]))
                    width = float(np.median(path_widths(path, widths)))
                    circles.append(Circle(xy, radius, width=width))
                    continue
                vertices = detect_triangle(path.points, True, self.v.triangle_residual)
                if vertices is not None:
                    tri = tuple((float(x), float(y)) for x, y in vertices)
                    width = float(np.median(path_widths(path, widths)))
                    triangles.append(Triangle(tri, width=width))  # type: ignore[arg-type]
                    continue
            to_fit.append(path)
        strokes_out = self.fit_all(to_fit, widths)
        next_id = len(strokes_out)
        circles = [replace(c, stroke_id=next_id + i) for i, c in enumerate(circles)]
        next_id += len(circles)
        triangles = [replace(t, stroke_id=next_id + i) for i, t in enumerate(triangles)]
        return VectorResult(strokes_out, tuple(circles), tuple(triangles), line_map=cleaned)
