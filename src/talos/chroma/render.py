"""Draw one frame of line art in a style profile: fills of closed shapes, then pressure strokes.

Painter's order is the layer order (back to front); inside a layer, fills first, lines on top.
A stroke is sampled along its Bézier chain (``per_segment`` points per segment) and drawn as
short anti-aliased segments whose width follows the knot pressures, linearly interpolated:
``w(s) = max(min_line_width, width · pressure(s) · line_width_scale)`` px. Coordinates are
drawn with 4 fractional bits (``shift``), so sub-pixel positions are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from talos.axis.geometry.bezier import sample
from talos.axis.io.frames import circle_from_dict, stroke_from_dict, triangle_from_dict
from talos.axis.strokes import Circle, Stroke
from talos.chroma.profiles import StyleProfile, hex_to_bgr

SHIFT = 4  # fractional bits of the drawing coordinates
SCALE = 1 << SHIFT
PER_SEGMENT = 8


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points, np.float64) * SCALE).astype(np.int32)


def stroke_polyline(
    stroke: Stroke, per_segment: int = PER_SEGMENT
) -> tuple[np.ndarray, np.ndarray]:
    """``(points (m, 2), pressure (m,))`` along the stroke; knots at every ``per_segment``."""
    points = sample(stroke.control_points, per_segment)
    knot_pos = np.arange(len(stroke.pressure)) * per_segment
    pressure = np.interp(np.arange(len(points)), knot_pos, stroke.pressure.astype(np.float64))
    return points, pressure


def draw_stroke(
    canvas: np.ndarray, stroke: Stroke, color: tuple[int, int, int], profile: StyleProfile
) -> None:
    """Draw ``stroke`` on ``canvas`` (H×W×3 uint8, in place) with pressure-varying width."""
    points, pressure = stroke_polyline(stroke)
    # Width of each piece between consecutive samples: the mean of its ends.
    widths = stroke.width * profile.line_width_scale * 0.5 * (pressure[:-1] + pressure[1:])
    thickness = np.maximum(np.rint(np.maximum(widths, profile.min_line_width)), 1).astype(int)
    pieces = _fixed(np.stack([points[:-1], points[1:]], axis=1))  # (m-1, 2, 2)
    for value in np.unique(thickness):
        chosen = list(pieces[thickness == value])
        cv2.polylines(canvas, chosen, False, color, int(value), cv2.LINE_AA, SHIFT)


def _blend_fill(
    canvas: np.ndarray, polygons: Sequence[np.ndarray], circles: Sequence[Circle],
    color: tuple[int, int, int], opacity: float,
) -> None:  # fmt: skip
    if not polygons and not circles:
        return
    mask = np.zeros(canvas.shape[:2], np.uint8)
    for polygon in polygons:  # one by one: fillPoly's even-odd rule would hollow nested shapes
        cv2.fillPoly(mask, [_fixed(polygon)], 255, cv2.LINE_AA, SHIFT)
    for circle in circles:
        center = tuple(int(v) for v in _fixed(np.array(circle.center)))
        cv2.circle(mask, center, int(round(circle.radius * SCALE)), 255, -1, cv2.LINE_AA, SHIFT)
    alpha = (mask.astype(np.float32) * (opacity / 255.0))[..., None]
    fill = np.asarray(color, np.float32)[None, None, :]
    canvas[:] = np.rint(canvas * (1.0 - alpha) + fill * alpha).astype(np.uint8)


def _ordered_layers(layers: Iterable[str], present: Iterable[str]) -> list[str]:
    order = list(dict.fromkeys(layers))
    return order + sorted(set(present) - set(order))


def render_frame(
    frame: Mapping[str, Any], profile: StyleProfile, layers: Sequence[str] = ()
) -> np.ndarray:
    """A frame document (``frames/NNNNNN.json``) drawn in ``profile``: ``(H, W, 3)`` BGR uint8.

    ``layers`` is the back-to-front layer order of the manifest; layers it does not name are
    drawn after it, alphabetically.
    """
    width, height = int(frame["width"]), int(frame["height"])
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = hex_to_bgr(profile.background)
    strokes = [stroke_from_dict(s) for s in frame.get("strokes", ())]
    circles = [circle_from_dict(c) for c in frame.get("circles", ())]
    triangles = [triangle_from_dict(t) for t in frame.get("triangles", ())]
    present = {s.layer for s in strokes} | {c.layer for c in circles}
    present |= {t.layer for t in triangles}
    for layer in _ordered_layers(layers, present):
        layer_strokes = [s for s in strokes if s.layer == layer]
        layer_circles = [c for c in circles if c.layer == layer]
        layer_triangles = [t for t in triangles if t.layer == layer]
        fill = profile.fill_bgr(layer)
        if fill is not None:
            polygons = [sample(s.control_points, PER_SEGMENT) for s in layer_strokes if s.closed]
            polygons += [np.asarray(t.vertices, np.float64) for t in layer_triangles]
            _blend_fill(canvas, polygons, layer_circles, fill, profile.fill_opacity)
        line = profile.line_bgr(layer)
        for stroke in layer_strokes:
            draw_stroke(canvas, stroke, line, profile)
        for circle in layer_circles:
            width = max(1, round(max(circle.width * profile.line_width_scale, 1.0)))
            center = tuple(int(v) for v in _fixed(np.array(circle.center)))
            radius = int(round(circle.radius * SCALE))
            cv2.circle(canvas, center, radius, line, width, cv2.LINE_AA, SHIFT)
        for triangle in layer_triangles:
            width = max(1, round(max(triangle.width * profile.line_width_scale, 1.0)))
            vertices = _fixed(np.asarray(triangle.vertices, np.float64))
            cv2.polylines(canvas, [vertices], True, line, width, cv2.LINE_AA, SHIFT)
    return canvas
