"""Frames as SVG: one ``<path>`` per stroke, carrying its ``stroke_id``, grouped by layer.

A stroke of (nearly) constant width is a stroked path; a stroke whose width varies is a
filled outline (its segment pieces and knot discs, :mod:`talos.axis.render.outline`), so the
SVG draws exactly what :mod:`talos.axis.render.raster` draws.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import quoteattr

import numpy as np

from talos.axis.geometry.fitting import fit_beziers
from talos.axis.model import Circle, Stroke, Triangle
from talos.axis.render.outline import is_constant_width, segment_pieces, stroke_radii

INK = "#141414"


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def bezier_path_data(control_points: np.ndarray, closed: bool = False) -> str:
    """SVG path data ``M x y C ...`` for a ``(3n + 1, 2)`` cubic Bézier chain."""
    cp = np.asarray(control_points)
    parts = [f"M{_num(cp[0, 0])} {_num(cp[0, 1])}"]
    for i in range(1, len(cp), 3):
        a, b, c = cp[i], cp[i + 1], cp[i + 2]
        parts.append(
            f"C{_num(a[0])} {_num(a[1])} {_num(b[0])} {_num(b[1])} {_num(c[0])} {_num(c[1])}"
        )
    if closed:
        parts.append("Z")
    return "".join(parts)


OUTLINE_TOLERANCE = 1.0  # px: how closely a filled outline's cubics follow the offsets


def _offset_chains(pieces: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two sides of every flattened segment piece ``(2m, 2)`` as Bézier chains, fitted
    all at once (:func:`fit_beziers`)."""
    sides = []
    for piece in pieces:
        m = len(piece) // 2
        sides += [piece[:m], piece[m:]]
    fits = fit_beziers(
        sides, OUTLINE_TOLERANCE, [False] * len(sides), [np.zeros(0, int)] * len(sides)
    )
    return [(fits[i][0], fits[i + 1][0]) for i in range(0, len(fits), 2)]


def _disc_data(center: np.ndarray, radius: float) -> str:
    # Two half-circle arcs, swept the same way round as the pieces (nonzero fill unions them).
    x, y, r = float(center[0]), float(center[1]), float(radius)
    return (
        f"M{_num(x + r)} {_num(y)}A{_num(r)} {_num(r)} 0 1 0 {_num(x - r)} {_num(y)}"
        f"A{_num(r)} {_num(r)} 0 1 0 {_num(x + r)} {_num(y)}Z"
    )


def variable_width_path_data(control_points: np.ndarray, radii: np.ndarray, closed: bool) -> str:
    """Filled-outline path data of a variable-width stroke: one subpath per segment piece
    (offset curves fitted as cubics) and one per knot disc (see ``render.outline``)."""
    parts = []
    for left, right in _offset_chains(segment_pieces(control_points, radii)):
        parts.append(bezier_path_data(left))
        parts.append("L" + bezier_path_data(right)[1:] + "Z")
    knots = np.asarray(control_points, np.float64)[::3]
    last = len(knots) - 1 if closed and len(knots) > 1 else len(knots)
    parts.extend(_disc_data(knots[k], radii[k]) for k in range(last))
    return "".join(parts)


def _stroke_element(stroke: Stroke) -> str:
    radii = stroke_radii(stroke)
    head = (
        f'<path id="s{stroke.stroke_id}" data-stroke-id="{stroke.stroke_id}" '
        f"class={quoteattr(stroke.style_class)} "
    )
    if is_constant_width(radii):
        path_data = bezier_path_data(stroke.control_points, stroke.closed)
        return f'{head}d="{path_data}" stroke-width="{_num(2 * radii[0])}"/>'
    path_data = variable_width_path_data(stroke.control_points, radii, stroke.closed)
    return f'{head}d="{path_data}" fill="{INK}" stroke="none"/>'


def frame_svg(
    width: int,
    height: int,
    strokes: Sequence[Stroke],
    circles: Iterable[Circle] = (),
    triangles: Iterable[Triangle] = (),
    layer_order: Sequence[str] = (),
) -> str:
    """The whole frame as an SVG document (black ink on white, layers back to front)."""
    by_layer: dict[str, list[str]] = {}
    for stroke in strokes:
        by_layer.setdefault(stroke.layer, []).append(_stroke_element(stroke))
    for i, circle in enumerate(circles):
        cx, cy = circle.center
        by_layer.setdefault(circle.layer, []).append(
            f'<circle id="c{i}" data-shape="circle" cx="{_num(cx)}" cy="{_num(cy)}" '
            f'r="{_num(circle.radius)}" stroke-width="{_num(circle.width)}"/>'
        )
    for i, tri in enumerate(triangles):
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in tri.vertices)
        by_layer.setdefault(tri.layer, []).append(
            f'<polygon id="t{i}" data-shape="triangle" points="{pts}" '
            f'stroke-width="{_num(tri.width)}"/>'
        )
    order = [name for name in layer_order if name in by_layer]
    order += sorted(name for name in by_layer if name not in order)
    groups = [
        f"<g id={quoteattr('layer-' + name)} data-layer={quoteattr(name)}>"
        + "".join(by_layer[name])
        + "</g>"
        for name in order
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        # Strokes use pixel centres at integers (as the line map does); SVG pixels are unit
        # squares from their corner, so everything is moved by half a pixel.
        f'<g transform="translate(0.5 0.5)" fill="none" stroke="{INK}" '
        'stroke-linecap="round" stroke-linejoin="round">' + "".join(groups) + "</g></svg>\n"
    )
