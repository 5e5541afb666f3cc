"""Frames as SVG: one ``<path>`` per stroke, carrying its ``stroke_id``, grouped by layer.

A stroke of (nearly) constant width is a stroked path; a stroke whose width varies is a
filled outline (its segment pieces and knot discs, :mod:`talos.axis.render.outline`), so the
SVG draws exactly what :mod:`talos.axis.render.raster` draws.

A frame of dense footage has hundreds of strokes and tens of thousands of numbers, so the
work is done per frame, not per stroke: the offset sides of all variable-width strokes are
fitted in one :func:`fit_beziers` call (each call has a large fixed cost), and elements are
written as ``%s`` templates whose numbers are all formatted at once (:func:`_fill`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import accumulate
from xml.sax.saxutils import quoteattr

import numpy as np

from talos.axis.geometry.fitting import fit_beziers
from talos.axis.render.outline import all_segment_pieces, all_stroke_radii
from talos.axis.strokes import Circle, Stroke, Triangle

INK = "#141414"
OUTLINE_TOLERANCE = 1.0  # px: how closely a filled outline's cubics follow the offsets

# A template with one ``%s`` per number, and those numbers (flat, in order).
_Text = tuple[str, np.ndarray]

_ZERO, _MINUS, _DOT, _NEWLINE = b"0-.\n"
_SEGMENT = "C%s %s %s %s %s %s"
# Two half-circle arcs, swept the same way round as the pieces (nonzero fill unions them).
_DISC = "M%s %sA%s %s 0 1 0 %s %sA%s %s 0 1 0 %s %sZ"


def _num(value: float) -> str:
    """``value`` with 2 decimals, trailing zeros and dot stripped, and ``-0`` written ``0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def _nums(values: np.ndarray) -> list[str]:
    """:func:`_num` of every value, written by array operations: a frame has thousands of
    numbers, and a Python call per number was most of its string building.

    A value is rounded to hundredths as ``rint(100 v)``; where that product is within float
    error of a half (or is not finite, or huge), rounding could go either way and
    :func:`_num` writes the value. Every other number is a row of ASCII characters (minus
    sign, whole-part digits, dot, two decimals, newline) whose unwanted ones (the minus of a
    non-negative value, leading zeros, stripped decimals) are dropped before decoding.
    """
    v = np.asarray(values, np.float64).ravel()
    if not len(v):
        return []
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = v * 100.0
        rounded = np.rint(scaled)
        sure = (np.abs(np.abs(scaled - rounded) - 0.5) > 1e-6) & (np.abs(scaled) < 1e12)
    hundredths = np.where(sure, rounded, 0.0).astype(np.int64)
    magnitude = np.abs(hundredths)
    whole = magnitude // 100
    frac = magnitude - 100 * whole
    tenths = frac // 10
    digits = len(str(whole.max()))
    chars = np.empty((len(v), digits + 5), np.uint8)
    keep = np.ones(chars.shape, bool)
    chars[:, 0], keep[:, 0] = _MINUS, hundredths < 0
    rest = whole
    for column in range(digits, 0, -1):  # units first; a digit is kept where it is not leading
        keep[:, column] = rest > 0
        shifted = rest // 10
        chars[:, column] = rest - 10 * shifted + _ZERO
        rest = shifted
    keep[:, digits] = True
    chars[:, -4], keep[:, -4] = _DOT, frac > 0
    chars[:, -3], keep[:, -3] = tenths + _ZERO, frac > 0
    chars[:, -2], keep[:, -2] = frac - 10 * tenths + _ZERO, frac != 10 * tenths
    chars[:, -1] = _NEWLINE
    texts = np.compress(keep.ravel(), chars.ravel()).tobytes().decode("ascii").split("\n")
    for i in np.flatnonzero(~sure):
        texts[i] = _num(float(v[i]))
    return texts[:-1]


def _fill(texts: Sequence[_Text]) -> list[str]:
    """Every template filled with its numbers (:func:`_nums`, all formatted together)."""
    if not texts:
        return []
    sizes = [len(values) for _, values in texts]
    numbers = _nums(np.concatenate([values for _, values in texts]))
    return [
        template % tuple(numbers[end - size : end])
        for (template, _), size, end in zip(texts, sizes, accumulate(sizes), strict=True)
    ]


def _chain(control_points: np.ndarray, start: str = "M") -> _Text:
    """``M x y C ...`` (or ``L x y C ...`` with ``start="L"``) for a ``(3n + 1, 2)`` chain."""
    cp = np.asarray(control_points, np.float64)
    return start + "%s %s" + _SEGMENT * ((len(cp) - 1) // 3), cp.ravel()


def bezier_path_data(control_points: np.ndarray, closed: bool = False) -> str:
    """SVG path data ``M x y C ...`` for a ``(3n + 1, 2)`` cubic Bézier chain."""
    template, values = _chain(control_points)
    return _fill([(template + ("Z" if closed else ""), values)])[0]


def bezier_paths_data(chains: Sequence[np.ndarray], closed: bool = False) -> list[str]:
    """:func:`bezier_path_data` of many chains, their numbers formatted together (an
    animation's path keys)."""
    return _fill([(t + ("Z" if closed else ""), v) for t, v in map(_chain, chains)])


def _outlines(strokes: Sequence[tuple[np.ndarray, np.ndarray, bool]]) -> list[_Text]:
    """Filled-outline path data of variable-width strokes ``(control_points, radii, closed)``:
    one subpath per segment piece (its two offset sides fitted as cubics, for all strokes in
    one :func:`fit_beziers` call) and one per knot disc (see ``render.outline``)."""
    pieces = all_segment_pieces([cp for cp, _, _ in strokes], [radii for _, radii, _ in strokes])
    sides: list[np.ndarray] = []
    for piece in pieces:
        m = piece.shape[1] // 2
        for left, right in zip(piece[:, :m], piece[:, m:], strict=True):
            sides += [left, right]
    count = len(sides)
    fits = iter(fit_beziers(sides, OUTLINE_TOLERANCE, [False] * count, [np.zeros(0, int)] * count))
    texts: list[_Text] = []
    for (control_points, radii, closed), piece in zip(strokes, pieces, strict=True):
        templates: list[str] = []
        values: list[np.ndarray] = []
        for _ in range(len(piece)):
            (left, _), (right, _) = next(fits), next(fits)
            for template, numbers in (_chain(left), _chain(right, "L")):
                templates.append(template)
                values.append(numbers)
            templates.append("Z")
        knots = np.asarray(control_points, np.float64)[::3]
        last = len(knots) - 1 if closed and len(knots) > 1 else len(knots)
        (x, y), r = knots[:last].T, np.asarray(radii[:last], np.float64)
        templates.append(_DISC * last)
        values.append(np.stack([x + r, y, r, r, x - r, y, r, r, x + r, y], axis=1).ravel())
        texts.append(("".join(templates), np.concatenate(values)))
    return texts


def variable_width_path_data(control_points: np.ndarray, radii: np.ndarray, closed: bool) -> str:
    """Filled-outline path data of a variable-width stroke: one subpath per segment piece
    (offset curves fitted as cubics) and one per knot disc (see ``render.outline``)."""
    return _fill(_outlines([(control_points, radii, closed)]))[0]


def _stroke_elements(strokes: Sequence[Stroke]) -> list[str]:
    """Every stroke's ``<path>``: a stroked chain, or a filled outline where the width varies."""
    radii, flags = all_stroke_radii(strokes)
    constant = flags.tolist()
    outlines = iter(
        _outlines(
            [
                (stroke.control_points, r, stroke.closed)
                for stroke, r, flat in zip(strokes, radii, constant, strict=True)
                if not flat
            ]
        )
    )
    bodies: list[_Text] = []
    for stroke, r, flat in zip(strokes, radii, constant, strict=True):
        if flat:
            template, values = _chain(stroke.control_points)
            closing = "Z" if stroke.closed else ""
            width = 2 * r[:1]
            bodies.append(
                (f'd="{template}{closing}" stroke-width="%s"/>', np.concatenate((values, width)))
            )
        else:
            template, values = next(outlines)
            bodies.append((f'd="{template}" fill="{INK}" stroke="none"/>', values))
    classes = {name: quoteattr(name) for name in {stroke.style_class for stroke in strokes}}
    return [
        f'<path id="s{stroke.stroke_id}" data-stroke-id="{stroke.stroke_id}" '
        f"class={classes[stroke.style_class]} {body}"
        for stroke, body in zip(strokes, _fill(bodies), strict=True)
    ]


def frame_svg(
    width: int,
    height: int,
    strokes: Sequence[Stroke],
    circles: Iterable[Circle] = (),
    triangles: Iterable[Triangle] = (),
    layer_order: Sequence[str] = (),
) -> str:
    """The whole frame as an SVG document (black ink on white, layers back to front)."""
    circles, triangles = list(circles), list(triangles)
    shapes: list[_Text] = [
        (
            f'<circle id="c{i}" data-shape="circle" cx="%s" cy="%s" r="%s" stroke-width="%s"/>',
            np.array([*circle.center, circle.radius, circle.width], np.float64),
        )
        for i, circle in enumerate(circles)
    ]
    shapes += [
        (
            f'<polygon id="t{i}" data-shape="triangle" points="'
            + " ".join(["%s,%s"] * len(tri.vertices))
            + '" stroke-width="%s"/>',
            np.append(np.asarray(tri.vertices, np.float64).ravel(), tri.width),
        )
        for i, tri in enumerate(triangles)
    ]
    layers = [s.layer for s in strokes] + [c.layer for c in circles] + [t.layer for t in triangles]
    by_layer: dict[str, list[str]] = {}
    for layer, element in zip(layers, _stroke_elements(strokes) + _fill(shapes), strict=True):
        by_layer.setdefault(layer, []).append(element)
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
