"""Frame files (``frames/NNNNNN.json``): strokes and primitives to JSON and back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from talos.axis.strokes import Circle, Stroke, Triangle, triangle_vertices

FORMAT_VERSION = "1.0"
DECIMALS = 2


def frame_stem(index: int) -> str:
    """``frames/000042`` for frame 42 (no suffix)."""
    return f"frames/{index:06d}"


def _round(array: np.ndarray | None, decimals: int = DECIMALS) -> list[Any] | None:
    if array is None:
        return None
    rounded: list[Any] = np.round(np.asarray(array, dtype=np.float64), decimals).tolist()
    return rounded


def stroke_to_dict(stroke: Stroke) -> dict[str, Any]:
    """A stroke as the frame file holds it: ``bezier`` ``(3n+1, 2)`` px to 0.01 px,
    ``pressure`` per knot (0..1), ``curvature`` per knot (1/px), ``points_3d`` (scene units)."""
    curvature = None
    if stroke.curvature is not None:
        curvature = {"mean": round(stroke.mean_curvature, 6), "knots": _round(stroke.curvature, 6)}
    return {
        "stroke_id": stroke.stroke_id,
        "layer": stroke.layer,
        "style_class": stroke.style_class,
        "closed": stroke.closed,
        "width": round(float(stroke.width), 3),
        "bezier": _round(stroke.control_points),
        "pressure": _round(stroke.pressure, 3),
        "curvature": curvature,
        "points_3d": _round(stroke.points_3d, 4),
    }


def stroke_from_dict(data: Mapping[str, Any]) -> Stroke:
    """The :class:`Stroke` of a frame file's stroke record (:func:`stroke_to_dict`)."""
    curvature = data.get("curvature")
    return Stroke(
        stroke_id=int(data["stroke_id"]),
        control_points=np.asarray(data["bezier"], dtype=np.float32),
        pressure=np.asarray(data["pressure"], dtype=np.float32),
        closed=bool(data.get("closed", False)),
        layer=str(data.get("layer", "foreground")),
        style_class=str(data.get("style_class", "outline")),
        width=float(data.get("width", 2.0)),
        curvature=None if not curvature else np.asarray(curvature["knots"], dtype=np.float32),
        curvature_mean=None if not curvature else float(curvature["mean"]),
        points_3d=None if data.get("points_3d") is None else np.asarray(data["points_3d"]),
    )


def circle_to_dict(circle: Circle) -> dict[str, Any]:
    """A circle as the frame file holds it: ``center`` and ``radius`` in px, to 0.01 px."""
    return {
        "center": [round(float(c), DECIMALS) for c in circle.center],
        "radius": round(float(circle.radius), DECIMALS),
        "layer": circle.layer,
        "stroke_id": circle.stroke_id,
        "width": round(float(circle.width), 3),
    }


def triangle_to_dict(triangle: Triangle) -> dict[str, Any]:
    """A triangle as the frame file holds it: three ``vertices`` in px, to 0.01 px."""
    return {
        "vertices": [
            [round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in triangle.vertices
        ],
        "layer": triangle.layer,
        "stroke_id": triangle.stroke_id,
        "width": round(float(triangle.width), 3),
    }


def circle_from_dict(data: Mapping[str, Any]) -> Circle:
    """The :class:`Circle` of a frame file's circle record."""
    cx, cy = data["center"]
    return Circle(
        center=(float(cx), float(cy)),
        radius=float(data["radius"]),
        layer=str(data.get("layer", "foreground")),
        stroke_id=data.get("stroke_id"),
        width=float(data.get("width", 2.0)),
    )


def triangle_from_dict(data: Mapping[str, Any]) -> Triangle:
    """The :class:`Triangle` of a frame file's triangle record."""
    return Triangle(
        vertices=triangle_vertices(data["vertices"]),
        layer=str(data.get("layer", "foreground")),
        stroke_id=data.get("stroke_id"),
        width=float(data.get("width", 2.0)),
    )


def frame_to_dict(
    index: int,
    time: float,
    width: int,
    height: int,
    strokes: Iterable[Stroke],
    circles: Iterable[Circle] = (),
    triangles: Iterable[Triangle] = (),
    metrics: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """One frame file's document: frame ``index``, ``time`` (s), size (px), the strokes and
    primitives, the frame's metrics."""
    return {
        "format_version": FORMAT_VERSION,
        "index": index,
        "time": round(time, 6),
        "width": width,
        "height": height,
        "strokes": [stroke_to_dict(s) for s in strokes],
        "circles": [circle_to_dict(c) for c in circles],
        "triangles": [triangle_to_dict(t) for t in triangles],
        "metrics": {k: round(float(v), 6) for k, v in (metrics or {}).items()},
    }


def dumps(data: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON (no spaces): how frame files are written."""
    return json.dumps(data, separators=(",", ":")).encode("utf-8")
