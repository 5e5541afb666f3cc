"""Frames as SVG: one ``<path>`` per stroke, carrying its ``stroke_id``, grouped by layer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import quoteattr

import numpy as np

from talos.axis.model import Circle, Stroke, Triangle

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


def _stroke_element(stroke: Stroke) -> str:
    width = stroke.width * float(np.mean(stroke.pressure)) if stroke.pressure.size else stroke.width
    path_data = bezier_path_data(stroke.control_points, stroke.closed)
    return (
        f'<path id="s{stroke.stroke_id}" data-stroke-id="{stroke.stroke_id}" '
        f'class={quoteattr(stroke.style_class)} d="{path_data}" '
        f'stroke-width="{_num(max(width, 0.1))}"/>'
    )


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
        f'<g fill="none" stroke="{INK}" stroke-linecap="round" stroke-linejoin="round">'
        + "".join(groups)
        + "</g></svg>\n"
    )
