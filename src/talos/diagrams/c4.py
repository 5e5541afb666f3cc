"""C4 diagrams drawn from a declarative description: :func:`build_c4` lays out a tuple of
:class:`Element` (placed on a grid: ``col``/``row`` are cell coordinates, fractions allowed) and
of :class:`Relation` (labelled with the API call or the data it carries), with an optional
:class:`Boundary`. TALOS's own description is :mod:`talos.diagrams.architecture`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from talos.diagrams.drawio import Diagram, Edge, Node, Text
from talos.diagrams.layout import (
    anchor,
    box_size,
    centered,
    clip_to_rect,
    place_labels,
    straight,
    text_node,
)

# C4's customary palette: people dark blue, our system/containers blue, external grey.
_FILL = {
    "person": "#08427b",
    "system": "#1168bd",
    "container": "#438dd5",
    "database": "#438dd5",
    "external": "#7a7a7a",
}
_KIND_TAG = {
    "person": "Person",
    "system": "Software System",
    "container": "Container",
    "database": "Container: database",
    "external": "External System",
}
WHITE = "#ffffff"
MUTED = "#e6eef7"
EDGE_INK = "#3d4852"


@dataclass(frozen=True)
class Element:
    """A person, system or container, centered on grid cell ``(col, row)``."""

    id: str
    name: str
    kind: str
    description: str
    col: float
    row: float
    technology: str = ""
    min_width: float = 230


@dataclass(frozen=True)
class Relation:
    """An arrow ``source → target`` labelled with what travels along it (``\\n`` breaks lines).

    ``exit``/``entry`` pin an end to a fraction of the box (else the line runs center to
    center); ``vertical`` drops the line straight down or up from ``exit``; ``both`` draws heads
    at both ends (a call and its callback)."""

    source: str
    target: str
    label: str
    exit: tuple[float, float] | None = None
    entry: tuple[float, float] | None = None
    vertical: bool = False
    both: bool = False


@dataclass(frozen=True)
class Boundary:
    """A dashed group around some elements (C4's system boundary)."""

    id: str
    name: str
    members: tuple[str, ...]


COL_PITCH = 420.0
ROW_PITCH = 250.0
MARGIN = 40.0
TITLE_HEIGHT = 60.0


def _element_lines(element: Element) -> tuple[Text, ...]:
    tag = _KIND_TAG[element.kind]
    if element.technology:
        tag = (
            f"{tag}: {element.technology}"
            if element.kind != "database"
            else (f"Container: {element.technology}")
        )
    lines = [Text(element.name, 15, bold=True, color=WHITE), Text(f"[{tag}]", 11, color=MUTED)]
    lines += [Text(part, 12, color=WHITE) for part in element.description.split("\n")]
    return tuple(lines)


def _element_nodes(element: Element, cx: float, cy: float) -> list[Node]:
    lines = _element_lines(element)
    width, height = box_size(lines, min_width=element.min_width, min_height=90)
    if element.kind == "database":
        height += 20
    shape = "database" if element.kind == "database" else "box"
    fill = _FILL[element.kind]
    node = centered(element.id, lines, cx, cy, width, height, shape=shape, fill=fill, stroke=fill)
    if element.kind != "person":
        return [node]
    head = Node(
        f"{element.id}-head",
        (),
        cx - 22,
        node.y - 48,
        44,
        44,
        shape="ellipse",
        fill=fill,
        stroke=fill,
    )
    body = Node(node.id, lines, node.x, node.y, node.width, node.height, fill=fill, stroke=fill)
    return [body, head]


def _route(relation: Relation, source: Node, target: Node) -> tuple[tuple[float, float], ...]:
    if relation.exit is None and relation.entry is None:
        return straight(source, target)
    start = anchor(source, *relation.exit) if relation.exit else None
    if relation.vertical and start is not None:
        end_y = target.y if target.y > start[1] else target.y + target.height
        return (start, (start[0], end_y))
    end = anchor(target, *relation.entry) if relation.entry else None
    if start is None:
        assert end is not None  # no exit: the entry is given (neither returned above)
        start = clip_to_rect(source.center, end, source.rect)
    if end is None:
        end = clip_to_rect(target.center, start, target.rect)
    return (start, end)


def _relation_lines(label: str) -> tuple[Text, ...]:
    return tuple(Text(part, 12, color=EDGE_INK) for part in label.split("\n"))


def build_c4(
    name: str,
    title: str,
    elements: tuple[Element, ...],
    relations: tuple[Relation, ...],
    boundary: Boundary | None = None,
    col_pitch: float = COL_PITCH,
    row_pitch: float = ROW_PITCH,
    subtitle: str = "",
) -> Diagram:
    """Lay out one C4 diagram: elements on the grid (cells of ``col_pitch`` × ``row_pitch``
    px), relations as labelled arrows, the boundary dashed around its members; ``title`` and
    ``subtitle`` above."""
    top = MARGIN + TITLE_HEIGHT + 40
    nodes: list[Node] = []
    for element in elements:
        cx = MARGIN + col_pitch / 2 + element.col * col_pitch
        cy = top + row_pitch / 2 + element.row * row_pitch
        nodes.extend(_element_nodes(element, cx, cy))
    # Shift the drawing left so its leftmost box starts at the margin (sparse first columns).
    shift = min(node.x for node in nodes) - MARGIN - 30
    nodes = [replace(node, x=node.x - shift) for node in nodes]
    by_id = {node.id: node for node in nodes}
    edges = []
    for i, relation in enumerate(relations):
        source, target = by_id[relation.source], by_id[relation.target]
        edges.append(
            Edge(
                f"rel{i + 1}-{relation.source}-{relation.target}",
                relation.source,
                relation.target,
                _route(relation, source, target),
                _relation_lines(relation.label),
                start_arrow="block" if relation.both else "none",
                color=EDGE_INK,
                width=1.5,
            )
        )
    extra: list[Node] = []
    if boundary is not None:
        members = [by_id[m] for m in boundary.members]
        x0 = min(n.x for n in members) - 30
        y0 = min(n.y for n in members) - 50
        x1 = max(n.x + n.width for n in members) + 30
        y1 = max(n.y + n.height for n in members) + 30
        extra.append(
            Node(
                boundary.id,
                (Text(boundary.name, 14, bold=True, color="#2d3748"),),
                x0,
                y0,
                x1 - x0,
                y1 - y0,
                shape="boundary",
                fill="none",
                stroke="#718096",
                dashed=True,
            )
        )
    heading = (Text(title, 20, bold=True), Text(subtitle, 13, color="#4a5568"))
    extra.insert(0, text_node(f"{name}-title", heading, MARGIN, MARGIN))
    all_nodes = tuple(extra + nodes)
    width = max(n.x + n.width for n in all_nodes) + MARGIN
    height = max(n.y + n.height for n in all_nodes) + MARGIN
    diagram = Diagram(name, title, width, height, all_nodes, tuple(edges))
    return place_labels(diagram)
