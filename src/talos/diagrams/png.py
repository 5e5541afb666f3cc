"""Render a :class:`~talos.diagrams.drawio.Diagram` to PNG with Pillow and the bundled DejaVu Sans.

The PNG shows the same model the ``.drawio`` file holds. Its ``tEXt`` chunk ``talos:model``
carries the SHA-256 of that model (the draw.io XML plus :data:`RENDERER_VERSION`): pixel output
may differ between FreeType builds, so staleness checks compare this hash, not pixels. On one
machine the bytes are deterministic.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngImageFile, PngInfo

from talos.diagrams.drawio import Diagram, Edge, Node, Text, to_drawio
from talos.diagrams.layout import LABEL_PAD, Point, label_rect, line_height, point_along

RENDERER_VERSION = "1"
HASH_KEY = "talos:model"
SCALE = 2  # device pixels per diagram px: crisp text on high-density screens

_FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}


def model_hash(diagram: Diagram) -> str:
    """SHA-256 of what the PNG depicts."""
    data = (to_drawio(diagram) + RENDERER_VERSION).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def read_model_hash(png: bytes | Path) -> str | None:
    """The model hash stored in a PNG written by :func:`render_png`, or None."""
    source = io.BytesIO(png) if isinstance(png, bytes) else png
    with Image.open(source) as image:
        if not isinstance(image, PngImageFile):
            return None
        return image.text.get(HASH_KEY)


@cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    path = resources.files("talos.diagrams") / "fonts" / _FONT_FILES[bold]
    with resources.as_file(path) as file:
        return ImageFont.truetype(str(file), size * SCALE, layout_engine=ImageFont.Layout.BASIC)


def _s(value: float) -> float:
    return value * SCALE


def _draw_lines(
    draw: ImageDraw.ImageDraw, lines: Sequence[Text], x: float, top: float, align: str
) -> None:
    """Lines stacked from ``top``; ``x`` is the center (align=center) or the left edge."""
    y = top
    for line in lines:
        height = line_height(line)
        anchor = "mm" if align == "center" else "lm"
        draw.text(
            (_s(x), _s(y + height / 2)),
            line.text,
            font=_font(line.size, line.bold),
            fill=line.color,
            anchor=anchor,
        )
        y += height


def _block_height(lines: Sequence[Text]) -> float:
    return float(sum(line_height(line) for line in lines))


def _dashed(
    draw: ImageDraw.ImageDraw, p: Point, q: Point, fill: str, width: int, dash: float, gap: float
) -> None:
    length = math.dist(p, q)
    if length == 0:
        return
    ux, uy = (q[0] - p[0]) / length, (q[1] - p[1]) / length
    pos = 0.0
    while pos < length:
        end = min(pos + dash, length)
        a = (_s(p[0] + ux * pos), _s(p[1] + uy * pos))
        b = (_s(p[0] + ux * end), _s(p[1] + uy * end))
        draw.line([a, b], fill=fill, width=width)
        pos += dash + gap


def _draw_node(draw: ImageDraw.ImageDraw, node: Node) -> None:
    x0, y0, x1, y1 = (_s(v) for v in node.rect)
    outline_width = max(1, round(_s(1.2)))
    if node.shape == "text":
        _draw_lines(draw, node.lines, node.x, node.y, "left")
        return
    if node.shape == "ellipse":
        draw.ellipse((x0, y0, x1, y1), fill=node.fill, outline=node.stroke, width=outline_width)
    elif node.shape == "database":
        cap = _s(12)
        draw.rectangle((x0, y0 + cap, x1, y1 - cap), fill=node.fill)
        draw.ellipse(
            (x0, y1 - 2 * cap, x1, y1), fill=node.fill, outline=node.stroke, width=outline_width
        )
        draw.rectangle((x0 + outline_width, y0 + cap, x1 - outline_width, y1 - cap), fill=node.fill)
        draw.line([(x0, y0 + cap), (x0, y1 - cap)], fill=node.stroke, width=outline_width)
        draw.line([(x1, y0 + cap), (x1, y1 - cap)], fill=node.stroke, width=outline_width)
        draw.ellipse(
            (x0, y0, x1, y0 + 2 * cap), fill=node.fill, outline=node.stroke, width=outline_width
        )
    elif node.shape == "lifeline":
        header = _s(node.header)
        _dashed(
            draw,
            (node.center[0], node.y + node.header),
            (node.center[0], node.y + node.height),
            node.stroke,
            outline_width,
            6,
            4,
        )
        draw.rounded_rectangle(
            (x0, y0, x1, y0 + header),
            radius=_s(6),
            fill=node.fill,
            outline=node.stroke,
            width=outline_width,
        )
    elif node.dashed:
        radius = _s(10) if node.rounded else 0
        if node.fill != "none":
            draw.rounded_rectangle((x0, y0, x1, y1), radius=radius, fill=node.fill)
        corners = [
            (node.x, node.y),
            (node.x + node.width, node.y),
            (node.x + node.width, node.y + node.height),
            (node.x, node.y + node.height),
        ]
        for p, q in zip(corners, corners[1:] + corners[:1], strict=True):
            _dashed(draw, p, q, node.stroke, outline_width + 1, 8, 4)
    else:
        radius = _s(min(node.width, node.height) * 0.08) if node.rounded else 0
        draw.rounded_rectangle(
            (x0, y0, x1, y1),
            radius=radius,
            fill=node.fill,
            outline=node.stroke,
            width=outline_width,
        )
    if node.shape == "boundary":
        _draw_lines(draw, node.lines, node.x + 12, node.y + 6, "left")
        return
    if node.shape == "lifeline":
        top, height = node.y, node.header
    elif node.shape == "database":
        top, height = node.y + 24, node.height - 36
    else:
        top, height = node.y, node.height
    block = _block_height(node.lines)
    _draw_lines(draw, node.lines, node.center[0], top + (height - block) / 2, "center")


def _arrow_head(
    draw: ImageDraw.ImageDraw, tip: Point, before: Point, kind: str, color: str, width: int
) -> None:
    if kind == "none":
        return
    length, half = (14.0, 8.0) if kind == "hollow" else (11.0, 5.0)
    dist = math.dist(tip, before) or 1.0
    ux, uy = (tip[0] - before[0]) / dist, (tip[1] - before[1]) / dist
    base = (tip[0] - ux * length, tip[1] - uy * length)
    left = (base[0] - uy * half, base[1] + ux * half)
    right = (base[0] + uy * half, base[1] - ux * half)
    points = [(_s(tip[0]), _s(tip[1])), (_s(left[0]), _s(left[1])), (_s(right[0]), _s(right[1]))]
    if kind == "open":
        draw.line([points[1], points[0], points[2]], fill=color, width=width)
    else:
        fill = "#ffffff" if kind == "hollow" else color
        draw.polygon(points, fill=fill, outline=color, width=width if kind == "hollow" else 1)


def _draw_edge(draw: ImageDraw.ImageDraw, edge: Edge) -> None:
    width = max(1, round(_s(edge.width)))
    for p, q in zip(edge.points, edge.points[1:], strict=False):
        if edge.dashed:
            _dashed(draw, p, q, edge.color, width, 7, 5)
        else:
            draw.line([(_s(p[0]), _s(p[1])), (_s(q[0]), _s(q[1]))], fill=edge.color, width=width)
    _arrow_head(draw, edge.points[-1], edge.points[-2], edge.end_arrow, edge.color, width)
    _arrow_head(draw, edge.points[0], edge.points[1], edge.start_arrow, edge.color, width)


def _draw_edge_label(draw: ImageDraw.ImageDraw, edge: Edge) -> None:
    rect = label_rect(edge)
    if rect is None:
        return
    draw.rectangle(tuple(_s(v) for v in rect), fill="#ffffff")
    cx = point_along(edge.points, edge.label_at)[0]
    _draw_lines(draw, edge.lines, cx, rect[1] + LABEL_PAD / 2, "center")


def render_png(diagram: Diagram) -> bytes:
    """The diagram as PNG bytes (``SCALE`` device pixels per px), model hash in a text chunk."""
    size = (round(_s(diagram.width)), round(_s(diagram.height)))
    image = Image.new("RGB", size, "#ffffff")
    draw = ImageDraw.Draw(image)
    # Containers first, then edges, then boxes over line ends, then labels on top of all.
    for node in diagram.nodes:
        if node.shape in ("boundary", "lifeline"):
            _draw_node(draw, node)
    for edge in diagram.edges:
        _draw_edge(draw, edge)
    for node in diagram.nodes:
        if node.shape not in ("boundary", "lifeline"):
            _draw_node(draw, node)
    for edge in diagram.edges:
        _draw_edge_label(draw, edge)
    info = PngInfo()
    info.add_text(HASH_KEY, model_hash(diagram))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=False, compress_level=6)
    return out.getvalue()
