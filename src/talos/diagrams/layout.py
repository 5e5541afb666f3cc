"""Text measurement, box sizing, edge routing and an overlap check, all in plain arithmetic.

Text widths come from a table of DejaVu Sans advance widths (font units, 2048 per em) rather
than from a rasterizer, so layouts (and so the ``.drawio`` files) are identical on every
machine. Characters outside ASCII count as wide as ``M``, which errs on the roomy side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TypedDict, Unpack

from talos.diagrams.drawio import Diagram, Edge, Node, Text

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1

# Advance widths of ASCII 32..126 in DejaVu Sans / DejaVu Sans Bold (units per em: 2048).
_REGULAR = (
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716,
    1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767,
    1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690,
    799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186,
    569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075,
    1303, 690, 1303, 1716,
)  # fmt: skip
_BOLD = (
    713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748,
    1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716,
    1188, 2048, 1585, 1561, 1503, 1700, 1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038,
    1714, 1741, 1501, 1741, 1577, 1475, 1397, 1663, 1585, 2259, 1579, 1483, 1485, 936, 748,
    936, 1716, 1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702, 702, 1362,
    702, 2134, 1458, 1407, 1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192,
    1458, 748, 1458, 1716,
)  # fmt: skip
_WIDE = 1800

LINE_SPACING = 1.3  # line height / font size


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in px of ``text`` set in DejaVu Sans at ``size`` px."""
    table = _BOLD if bold else _REGULAR
    units = sum(table[ord(c) - 32] if 32 <= ord(c) < 127 else _WIDE for c in text)
    return units * size / 2048.0


def line_height(line: Text) -> float:
    return round(line.size * LINE_SPACING)


def text_block(lines: Sequence[Text]) -> tuple[float, float]:
    """Width and height in px of a block of lines."""
    if not lines:
        return (0.0, 0.0)
    width = max(text_width(line.text, line.size, line.bold) for line in lines)
    return (width, float(sum(line_height(line) for line in lines)))


def snap(value: float, step: float = 10.0) -> float:
    """Round up to the grid so boxes line up in draw.io."""
    return math.ceil(value / step) * step


def box_size(
    lines: Sequence[Text], min_width: float = 0, min_height: float = 0, pad_x: float = 16,
    pad_y: float = 12,
) -> tuple[float, float]:  # fmt: skip
    """A box that holds ``lines`` with padding, snapped to the 10 px grid."""
    width, height = text_block(lines)
    return (snap(max(min_width, width + 2 * pad_x)), snap(max(min_height, height + 2 * pad_y)))


class NodeStyle(TypedDict, total=False):
    """The keyword arguments of :class:`Node` that style it."""

    shape: str
    fill: str
    stroke: str
    dashed: bool
    rounded: bool
    header: float


def centered(node_id: str, lines: tuple[Text, ...], cx: float, cy: float, width: float,
             height: float, **style: Unpack[NodeStyle]) -> Node:  # fmt: skip
    """A node of the given size centered on ``(cx, cy)``."""
    return Node(node_id, lines, cx - width / 2, cy - height / 2, width, height, **style)


def anchor(node: Node, fx: float, fy: float) -> Point:
    """The point at fractions ``(fx, fy)`` of the node's box."""
    return (node.x + fx * node.width, node.y + fy * node.height)


def clip_to_rect(inside: Point, toward: Point, rect: Rect) -> Point:
    """Where the segment from ``inside`` (in ``rect``) toward ``toward`` leaves ``rect``."""
    (x, y), (tx, ty) = inside, toward
    dx, dy = tx - x, ty - y
    scales = []
    if dx:
        scales.append(((rect[2] if dx > 0 else rect[0]) - x) / dx)
    if dy:
        scales.append(((rect[3] if dy > 0 else rect[1]) - y) / dy)
    s = min(scale for scale in scales if scale >= 0) if scales else 0.0
    return (round(x + s * dx, 2), round(y + s * dy, 2))


def straight(source: Node, target: Node) -> tuple[Point, Point]:
    """The center-to-center segment, clipped to both boxes."""
    a, b = source.center, target.center
    return (clip_to_rect(a, b, source.rect), clip_to_rect(b, a, target.rect))


def point_along(points: Sequence[Point], fraction: float) -> Point:
    """The point at ``fraction`` of the polyline's length."""
    lengths = [math.dist(p, q) for p, q in zip(points, points[1:], strict=False)]
    remaining = sum(lengths) * fraction
    for (p, q), length in zip(zip(points, points[1:], strict=False), lengths, strict=True):
        if remaining <= length and length > 0:
            t = remaining / length
            return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
        remaining -= length
    return points[-1]


LABEL_PAD = 4.0


def label_rect(edge: Edge) -> Rect | None:
    """The box the edge's label occupies (with its white background), or None."""
    if not edge.lines:
        return None
    width, height = text_block(edge.lines)
    cx, cy = point_along(edge.points, edge.label_at)
    w, h = width + 2 * LABEL_PAD, height + LABEL_PAD
    if edge.label_above:
        return (cx - w / 2, cy - h - 2, cx + w / 2, cy - 2)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _rects_overlap(a: Rect, b: Rect, margin: float = 0.0) -> bool:
    return (
        a[0] < b[2] + margin
        and b[0] < a[2] + margin
        and a[1] < b[3] + margin
        and b[1] < a[3] + margin
    )


def _segment_hits_rect(p: Point, q: Point, rect: Rect) -> bool:
    """Liang–Barsky: does segment pq pass through the open rectangle?"""
    x0, y0, x1, y1 = rect[0] + 1, rect[1] + 1, rect[2] - 1, rect[3] - 1
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for edge_p, edge_q in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if edge_p == 0:
            if edge_q < 0:
                return False
            continue
        t = edge_q / edge_p
        if edge_p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def _solid_rect(node: Node) -> Rect | None:
    """The part of a node that nothing else may cover (boundaries and text are see-through)."""
    if node.shape in ("boundary", "text"):
        return None
    if node.shape == "lifeline":
        return (node.x, node.y, node.x + node.width, node.y + node.header)
    return node.rect


def _segments(points: Sequence[Point]) -> Iterable[tuple[Point, Point]]:
    return zip(points, points[1:], strict=False)


def find_overlaps(diagram: Diagram) -> list[str]:
    """Everything that would make the picture hard to read: boxes on boxes, labels on boxes,
    labels on labels, labels on other edges' lines, lines through boxes they don't connect,
    and anything outside the page. Returns human-readable findings (empty = clean)."""
    problems: list[str] = []
    solids = [(node.id, rect) for node in diagram.nodes if (rect := _solid_rect(node))]
    for i, (a_id, a) in enumerate(solids):
        for b_id, b in solids[i + 1 :]:
            if _rects_overlap(a, b):
                problems.append(f"box {a_id} overlaps box {b_id}")
    for node in diagram.nodes:
        if (
            node.x < 0
            or node.y < 0
            or node.x + node.width > diagram.width
            or (node.y + node.height > diagram.height)
        ):
            problems.append(f"box {node.id} leaves the page")
    labels = [(edge, rect) for edge in diagram.edges if (rect := label_rect(edge))]
    for i, (edge, rect) in enumerate(labels):
        for node_id, solid in solids:
            if _rects_overlap(rect, solid):
                problems.append(f"label of {edge.id} overlaps box {node_id}")
        for other, other_rect in labels[i + 1 :]:
            if _rects_overlap(rect, other_rect, margin=2):
                problems.append(f"label of {edge.id} overlaps label of {other.id}")
        for other in diagram.edges:
            if other.id != edge.id and any(
                _segment_hits_rect(p, q, rect) for p, q in _segments(other.points)
            ):
                problems.append(f"label of {edge.id} lies on edge {other.id}")
    for edge in diagram.edges:
        for node_id, solid in solids:
            if node_id in (edge.source, edge.target):
                continue
            if any(_segment_hits_rect(p, q, solid) for p, q in _segments(edge.points)):
                problems.append(f"edge {edge.id} crosses box {node_id}")
    return problems


LABEL_POSITIONS = (0.5, 0.42, 0.58, 0.35, 0.65, 0.28, 0.72, 0.22, 0.78)


def place_labels(diagram: Diagram) -> Diagram:
    """Slide each edge label along its edge to the first place where it touches nothing
    (tried in :data:`LABEL_POSITIONS` order, so the result is deterministic)."""
    from dataclasses import replace

    edges = list(diagram.edges)
    for i, edge in enumerate(edges):
        if not edge.lines:
            continue
        best, best_count = edge, None
        for fraction in LABEL_POSITIONS:
            candidate = replace(edge, label_at=fraction)
            trial = replace(diagram, edges=tuple(edges[:i] + [candidate] + edges[i + 1 :]))
            count = sum(f"label of {edge.id} " in problem for problem in find_overlaps(trial))
            if best_count is None or count < best_count:
                best, best_count = candidate, count
            if count == 0:
                break
        edges[i] = best
    return replace(diagram, edges=tuple(edges))


def text_node(node_id: str, lines: tuple[Text, ...], x: float, y: float) -> Node:
    """A free text block (titles, notes) sized to its text, so draw.io never wraps it."""
    width, height = text_block(lines)
    return Node(node_id, lines, x, y, snap(width + 8), snap(height), shape="text")
