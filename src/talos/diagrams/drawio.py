"""A small diagram model and its draw.io (mxfile) serialization.

A :class:`Diagram` is a list of :class:`Node` (boxes with absolute geometry in px) and
:class:`Edge` (polylines between nodes, with absolute points already routed). The same model is
written to ``.drawio`` here and rendered to PNG by :mod:`talos.diagrams.png`, so the two never
disagree. Edges pin their ends with ``exitX/exitY/entryX/entryY`` (``*Perimeter=0``) and carry
their bends as waypoints with ``edgeStyle=none``: draw.io draws exactly the routed polyline, and
its label at the same fraction of the polyline's length that the PNG uses.

The XML is uncompressed and deterministic byte for byte (no timestamps, fixed attribute order).
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

FONT_FAMILY = "DejaVu Sans"
INK = "#1f2933"


@dataclass(frozen=True)
class Text:
    """One line of a label; ``size`` in px."""

    text: str
    size: int = 13
    bold: bool = False
    color: str = INK


@dataclass(frozen=True)
class Node:
    """A vertex. ``shape``: box, ellipse, database, boundary (dashed group, label top-left),
    lifeline (header box of height ``header`` plus a dashed line down the middle), text."""

    id: str
    lines: tuple[Text, ...]
    x: float
    y: float
    width: float
    height: float
    shape: str = "box"
    fill: str = "#ffffff"
    stroke: str = "#4a5568"
    dashed: bool = False
    rounded: bool = True
    header: float = 0.0

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y + self.height / 2)

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.x + self.width, self.y + self.height)


@dataclass(frozen=True)
class Edge:
    """A connector. ``points`` is the whole routed polyline in absolute px, first point on the
    source, last on the target. ``label_at`` is the label's place along the polyline (0 = source,
    1 = target, by length); ``label_above`` puts the label's bottom on the line instead of its
    center (sequence messages). Arrow heads: block, open, hollow (inheritance), none."""

    id: str
    source: str
    target: str
    points: tuple[tuple[float, float], ...]
    lines: tuple[Text, ...] = ()
    dashed: bool = False
    end_arrow: str = "block"
    start_arrow: str = "none"
    color: str = "#4a5568"
    label_at: float = 0.5
    label_above: bool = False
    width: float = 1.5


@dataclass(frozen=True)
class Diagram:
    """A named page of nodes and edges; ``width``/``height`` is the page (PNG) size in px."""

    name: str
    title: str
    width: float
    height: float
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = field(default_factory=tuple)

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)


def _num(value: float) -> str:
    """Coordinates as short, stable strings (``120``, ``120.5``)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _ratio(value: float) -> str:
    """A fraction of a box (exit/entry points): enough digits to land on the exact px."""
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def label_html(lines: tuple[Text, ...]) -> str:
    """The label as draw.io HTML: one ``<font>`` per line, ``<br>`` between lines."""
    parts = []
    for line in lines:
        text = html.escape(line.text, quote=False)
        if line.bold:
            text = f"<b>{text}</b>"
        parts.append(f'<font style="font-size: {line.size}px;" color="{line.color}">{text}</font>')
    return "<br>".join(parts)


def _style(items: dict[str, object]) -> str:
    return "".join(
        f"{key}={value};" if value is not None else f"{key};" for key, value in items.items()
    )


_ARROWS = {"block": ("block", 1), "open": ("open", 1), "hollow": ("block", 0), "none": ("none", 1)}


def node_style(node: Node) -> str:
    base_size = node.lines[0].size if node.lines else 13
    common: dict[str, object] = {
        "html": 1,
        "whiteSpace": "wrap",
        "fontFamily": FONT_FAMILY,
        "fontSize": base_size,
        "fillColor": node.fill,
        "strokeColor": node.stroke,
    }
    if node.shape == "text":
        return _style(
            {
                "text": None,
                **common,
                "fillColor": "none",
                "strokeColor": "none",
                "align": "left",
                "verticalAlign": "top",
                "spacing": 0,
            }
        )
    if node.shape == "ellipse":
        return _style({"ellipse": None, **common})
    if node.shape == "database":
        return _style(
            {"shape": "cylinder3", "boundedLbl": 1, "backgroundOutline": 1, "size": 12, **common}
        )
    if node.shape == "lifeline":
        return _style(
            {
                "shape": "umlLifeline",
                "perimeter": "lifelinePerimeter",
                "container": 1,
                "collapsible": 0,
                "recursiveResize": 0,
                "size": _num(node.header),
                **common,
                "dashed": 0,
                "rounded": 1,
            }
        )
    style = {"rounded": 1 if node.rounded else 0, "arcSize": 8, **common}
    if node.dashed:
        style.update({"dashed": 1, "dashPattern": "8 4"})
    if node.shape == "boundary":
        style.update(
            {
                "container": 1,
                "collapsible": 0,
                "align": "left",
                "verticalAlign": "top",
                "spacingLeft": 12,
                "spacingTop": 6,
            }
        )
    return _style(style)


def edge_style(edge: Edge, source: Node, target: Node) -> str:
    (x0, y0), (x1, y1) = edge.points[0], edge.points[-1]
    end, end_fill = _ARROWS[edge.end_arrow]
    start, start_fill = _ARROWS[edge.start_arrow]
    size = edge.lines[0].size if edge.lines else 12
    style: dict[str, object] = {
        "edgeStyle": "none",
        "html": 1,
        "rounded": 0,
        "fontFamily": FONT_FAMILY,
        "fontSize": size,
        "strokeColor": edge.color,
        "strokeWidth": _num(edge.width),
        "endArrow": end,
        "endFill": end_fill,
        "startArrow": start,
        "startFill": start_fill,
        "labelBackgroundColor": "#ffffff",
        "exitX": _ratio((x0 - source.x) / source.width),
        "exitY": _ratio((y0 - source.y) / source.height),
        "exitPerimeter": 0,
        "entryX": _ratio((x1 - target.x) / target.width),
        "entryY": _ratio((y1 - target.y) / target.height),
        "entryPerimeter": 0,
    }
    if edge.dashed:
        style["dashed"] = 1
    if edge.label_above:
        style["verticalAlign"] = "bottom"
    return _style(style)


def to_drawio(diagram: Diagram) -> str:
    """The diagram as an uncompressed draw.io file (one page)."""
    mxfile = ET.Element("mxfile", {"host": "talos", "type": "device"})
    page = ET.SubElement(mxfile, "diagram", {"id": diagram.name, "name": diagram.title})
    model = ET.SubElement(
        page,
        "mxGraphModel",
        {
            "dx": "0",
            "dy": "0",
            "grid": "1",
            "gridSize": "10",
            "guides": "1",
            "tooltips": "1",
            "connect": "1",
            "arrows": "1",
            "fold": "1",
            "page": "1",
            "pageScale": "1",
            "pageWidth": _num(diagram.width),
            "pageHeight": _num(diagram.height),
            "math": "0",
            "shadow": "0",
        },
    )
    root = ET.SubElement(model, "root")
    ET.SubElement(root, "mxCell", {"id": "0"})
    ET.SubElement(root, "mxCell", {"id": "1", "parent": "0"})
    nodes = {node.id: node for node in diagram.nodes}
    for node in diagram.nodes:
        cell = ET.SubElement(
            root,
            "mxCell",
            {
                "id": node.id,
                "value": label_html(node.lines),
                "style": node_style(node),
                "vertex": "1",
                "parent": "1",
            },
        )
        ET.SubElement(
            cell,
            "mxGeometry",
            {
                "x": _num(node.x),
                "y": _num(node.y),
                "width": _num(node.width),
                "height": _num(node.height),
                "as": "geometry",
            },
        )
    for edge in diagram.edges:
        source, target = nodes[edge.source], nodes[edge.target]
        cell = ET.SubElement(
            root,
            "mxCell",
            {
                "id": edge.id,
                "value": label_html(edge.lines),
                "style": edge_style(edge, source, target),
                "edge": "1",
                "parent": "1",
                "source": edge.source,
                "target": edge.target,
            },
        )
        # Relative edge geometry: x in [-1, 1] is the label's place along the polyline.
        geometry = ET.SubElement(
            cell,
            "mxGeometry",
            {"x": _num(edge.label_at * 2 - 1), "relative": "1", "as": "geometry"},
        )
        (x0, y0), (x1, y1) = edge.points[0], edge.points[-1]
        ET.SubElement(geometry, "mxPoint", {"x": _num(x0), "y": _num(y0), "as": "sourcePoint"})
        ET.SubElement(geometry, "mxPoint", {"x": _num(x1), "y": _num(y1), "as": "targetPoint"})
        if len(edge.points) > 2:
            array = ET.SubElement(geometry, "Array", {"as": "points"})
            for x, y in edge.points[1:-1]:
                ET.SubElement(array, "mxPoint", {"x": _num(x), "y": _num(y)})
    ET.indent(mxfile, space="  ")
    return ET.tostring(mxfile, encoding="unicode") + "\n"
