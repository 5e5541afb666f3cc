"""C4 level 1 (system context) and level 2 (containers) of TALOS, from a declarative description.

Each diagram is a list of :class:`Element` (placed on a grid: ``col``/``row`` are cell
coordinates, fractions allowed) and :class:`Relation` (labelled with the API call or the data it
carries). Edit the lists below when the architecture changes and run ``axis diagrams``.
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


CONTEXT_ELEMENTS = (
    Element(
        "animator",
        "Animator / Director",
        "person",
        "Writes a prompt, picks a style and a\nsource video; edits lines stroke\nby stroke; "
        "watches the result",
        col=1,
        row=0,
    ),
    Element(
        "talos",
        "TALOS",
        "system",
        "AI animation pipeline: prompt and video in,\neditable vector line art and a colored "
        "MP4 out\n(Orchestrator, PRISM, AXIS, CHROMA)",
        col=1,
        row=1,
        min_width=340,
    ),
    Element(
        "video",
        "Source video locations",
        "external",
        "Footage to trace: HTTP(S) URLs,\nshared folders, buckets",
        col=0,
        row=1,
    ),
    Element(
        "llm",
        "LLM provider (optional)",
        "external",
        "Hosted language model that\nPRISM may ask to turn a prompt\ninto a shot spec",
        col=2,
        row=1,
    ),
    Element(
        "storage",
        "Object storage",
        "external",
        "S3-compatible bucket or a local folder:\nevery artifact under /{job_id}/{module}/",
        col=1,
        row=2,
        min_width=320,
    ),
)

CONTEXT_RELATIONS = (
    Relation(
        "animator",
        "talos",
        "Submits prompt, style, video URL;\nfollows the job; edits strokes\n"
        "[REST/JSON: POST /jobs, GET /jobs/{job_id}]",
    ),
    Relation("talos", "video", "Reads the source video\n[HTTP(S) / file URL]"),
    Relation("talos", "llm", "Prompt → shot spec\n[HTTPS, API key from env]"),
    Relation(
        "talos",
        "storage",
        "Writes and reads cut_spec.json, lines.json,\nframes, final MP4 [S3 API / files]",
    ),
)

CONTAINER_ELEMENTS = (
    Element(
        "animator",
        "Animator / Director",
        "person",
        "Submits jobs, follows them,\nedits strokes",
        col=2,
        row=0,
    ),
    Element("llm", "LLM provider (optional)", "external", "Hosted model; prompt → shot spec", 0, 2),
    Element(
        "orchestrator",
        "Orchestrator",
        "container",
        "Runs jobs through the modules;\ntracks state, retries with backoff,\n"
        "dead-letters what still fails",
        col=2,
        row=1,
        technology="FastAPI",
    ),
    Element(
        "jobdb",
        "Job database",
        "database",
        "Jobs, attempts, module state,\ndead-letter queue",
        col=3,
        row=1,
        technology="SQLAlchemy: SQLite | PostgreSQL",
    ),
    Element(
        "prism",
        "PRISM",
        "container",
        "Director: prompt → shot spec\n(cut_spec.json)",
        col=1,
        row=2,
        technology="FastAPI",
    ),
    Element(
        "axis",
        "AXIS",
        "container",
        "Animator: video + shot spec →\nvector strokes (lines.json)",
        col=2,
        row=2,
        technology="FastAPI",
    ),
    Element(
        "chroma",
        "CHROMA",
        "container",
        "Colorist: lines + style profile\n→ colored frames, MP4",
        col=3,
        row=2,
        technology="FastAPI",
    ),
    Element("video", "Source video locations", "external", "HTTP(S) / file URLs", 0, 3),
    Element(
        "workers",
        "Queue / workers",
        "container",
        "Run the AXIS Pipeline on each job:\ndecode → steps → lines.json",
        col=2,
        row=3,
        technology="in-process pool | Celery on Redis",
    ),
    Element(
        "store",
        "Shared Data Store",
        "database",
        "Every artifact under /{job_id}/{module}/",
        col=2,
        row=4,
        min_width=1160,
        technology="fsspec: local folder | S3",
    ),
)

_CALLBACK = "↩ POST /callbacks/job-completed"

CONTAINER_RELATIONS = (
    Relation(
        "animator",
        "orchestrator",
        "POST /jobs {prompt, style, video_source_url} → 202\nGET /jobs/{job_id} → status",
    ),
    Relation("orchestrator", "jobdb", "job state, attempts,\ndead letters [SQL]"),
    Relation(
        "orchestrator",
        "prism",
        f"POST /direct {{job_id, prompt, style}} → 202\n{_CALLBACK}",
        both=True,
    ),
    Relation(
        "orchestrator",
        "axis",
        f"POST /generate {{job_id, cut_spec_url,\nvideo_source_url}} → 202\n{_CALLBACK}",
        both=True,
    ),
    Relation(
        "orchestrator",
        "chroma",
        f"POST /colorize {{job_id, lines_data_url,\nstyle_profile_url}} → 202\n{_CALLBACK}",
        both=True,
    ),
    Relation("prism", "llm", "prompt → shot spec\n[HTTPS, optional]"),
    Relation("axis", "workers", "enqueue trace run\n(503 when the queue is full)"),
    Relation("workers", "video", "GET video_source_url\n(streamed decode)"),
    Relation(
        "prism", "store", "PUT /{job_id}/prism/\ncut_spec.json", exit=(0.12, 1), vertical=True
    ),
    Relation(
        "workers",
        "store",
        "GET cut_spec.json\nPUT /{job_id}/axis/lines.json,\nframes/NNNNNN.json|svg, metrics.jsonl",
        exit=(0.5, 1),
        vertical=True,
    ),
    Relation(
        "chroma",
        "store",
        "GET lines.json\nPUT /{job_id}/chroma/\nframes/*.png, final.mp4",
        exit=(0.5, 1),
        vertical=True,
    ),
)

CONTAINER_BOUNDARY = Boundary(
    "talos-boundary",
    "TALOS [Software System]",
    ("orchestrator", "jobdb", "prism", "axis", "chroma", "workers", "store"),
)

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
        start = clip_to_rect(source.center, end, source.rect)  # type: ignore[arg-type]
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
) -> Diagram:
    """Lay out one C4 diagram: elements on the grid, relations as labelled arrows."""
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
    heading = (Text(title, 20, bold=True), Text(_SUBTITLES[name], 13, color="#4a5568"))
    extra.insert(0, text_node(f"{name}-title", heading, MARGIN, MARGIN))
    all_nodes = tuple(extra + nodes)
    width = max(n.x + n.width for n in all_nodes) + MARGIN
    height = max(n.y + n.height for n in all_nodes) + MARGIN
    diagram = Diagram(name, title, width, height, all_nodes, tuple(edges))
    return place_labels(diagram)


_SUBTITLES = {
    "c4-context": "C4 level 1 — who uses TALOS and which outside systems it relies on",
    "c4-containers": "C4 level 2 — the services inside TALOS and what travels between them "
    "(↩ = callback)",
}


def context_diagram() -> Diagram:
    """C4 level 1: TALOS, the animator/director, and the external systems."""
    return build_c4(
        "c4-context",
        "TALOS — system context",
        CONTEXT_ELEMENTS,
        CONTEXT_RELATIONS,
        col_pitch=560,
        row_pitch=270,
    )


def containers_diagram() -> Diagram:
    """C4 level 2: the containers of TALOS and every call between them."""
    return build_c4(
        "c4-containers",
        "TALOS — containers",
        CONTAINER_ELEMENTS,
        CONTAINER_RELATIONS,
        CONTAINER_BOUNDARY,
        col_pitch=500,
    )
