"""The AXIS component diagram: what :func:`talos.diagrams.discovery.discover` finds in the code
(steps, strategy interfaces and their implementations, observers, trackers, stores), laid out
in four columns under the framework row, with "extends" and "uses" arrows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from talos.diagrams.discovery import Components, StepInfo, discover
from talos.diagrams.drawio import Diagram, Edge, Node, Text
from talos.diagrams.layout import box_size, place_labels, text_node

MARGIN = 40.0
TOP = 150.0
INDENT = 44.0
V_GAP = 18.0
BLOCK_GAP = 34.0
COL_GAP = 150.0
INK = "#1f2933"
FRAMEWORK = ("#fff5e6", "#b7791f")
STEP = ("#e8f1fb", "#2b6cb0")
INTERFACE = ("#f0fff4", "#2f855a")
IMPL = ("#ffffff", "#2f855a")
OBSERVER = ("#faf5ff", "#6b46c1")
ARROW = "#4a5568"


def _box(
    node_id: str,
    lines: Sequence[Text],
    x: float,
    y: float,
    width: float,
    height: float,
    colors: tuple[str, str],
) -> Node:
    return Node(node_id, tuple(lines), x, y, width, height, fill=colors[0], stroke=colors[1])


def _wrap(words: Iterable[str], limit: int) -> list[str]:
    """Comma-separated words in lines of at most ``limit`` characters."""
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current}, {word}" if current else word
        if len(candidate) > limit and current:
            lines.append(current + ",")
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _inherit(edge_id: str, child: Node, parent: Node, bus_x: float) -> Edge:
    """Tree-style inheritance: from the child's left side to the bus, up into the parent."""
    cy = child.y + child.height / 2
    points = ((child.x, cy), (bus_x, cy), (bus_x, parent.y + parent.height))
    return Edge(edge_id, child.id, parent.id, points, end_arrow="hollow", color=ARROW, width=1.2)


def _tree(head: Node, children: list[Node], prefix: str) -> list[Edge]:
    bus_x = head.x + INDENT / 2
    return [_inherit(f"{prefix}-{c.id}", c, head, bus_x) for c in children]


def _lines_of(bold: str, *rest: str, stereotype: str = "") -> list[Text]:
    """A box's text: the stereotype (if any), the bold name, then the non-empty ``rest``."""
    out = [Text(stereotype, 11, color="#4a5568")] if stereotype else []
    out.append(Text(bold, 14, bold=True, color=INK))
    out += [Text(r, 12, color="#4a5568") for r in rest if r]
    return out


def _framework_texts(comp: Components) -> list[tuple[str, list[Text]]]:
    """The top row, left to right: Pipeline, ProcessingStep, FrameContext, FrameContextBuilder."""
    ctx_lines = _lines_of("FrameContext", stereotype="«frozen dataclass»")
    ctx_lines += [Text(t, 11, color="#4a5568") for t in _wrap(comp.frame_fields, 34)]
    return [
        (
            "Pipeline",
            _lines_of(
                "Pipeline",
                "times every step of every frame",
                "workers > 1: leading stateless",
                "steps in a process pool",
            ),
        ),
        (
            "ProcessingStep",
            _lines_of(
                "ProcessingStep",
                "name, stateful",
                "open(run) · process(ctx) · close(run)",
                stereotype="«abstract»",
            ),
        ),
        ("FrameContext", ctx_lines),
        (
            "FrameContextBuilder",
            _lines_of(
                "FrameContextBuilder",
                "set() · add_counts()",
                "add_metrics() · add_artifacts()",
                "build()",
            ),
        ),
    ]


def box_size_list(groups: Sequence[Sequence[Text]]) -> list[tuple[float, float]]:
    return [box_size(g, min_width=200) for g in groups]


@dataclass(frozen=True)
class _Measures:
    """The texts of the step, block and observer boxes and the one size each kind is drawn
    at (boxes of a kind share a size so that the columns line up)."""

    step_lines: list[list[Text]]
    step_size: tuple[float, float]
    block_heads: list[list[Text]]
    child_lines: list[list[list[Text]]]
    block_w: float
    head_h: float
    child_h: float
    obs_lines: list[list[Text]]
    obs_w: float

    @classmethod
    def of(cls, comp: Components) -> _Measures:
        step_lines = [
            _lines_of(s.name, s.class_name + ("  ·  stateful" if s.stateful else ""))
            for s in comp.steps
        ]
        step_w, step_h = (
            (max(v) for v in zip(*[box_size(ls, min_width=200) for ls in step_lines], strict=True))
            if step_lines
            else (200, 60)
        )
        block_heads = [_lines_of(b.title, b.subtitle, stereotype=b.stereotype) for b in comp.blocks]
        child_lines = [[_lines_of(n, c) for n, c in b.children] for b in comp.blocks]
        all_block_sizes = [box_size(ls, min_width=200) for ls in block_heads] + [
            box_size(ls, min_width=200) for kids in child_lines for ls in kids
        ]
        obs_lines = [_lines_of(o) for o in comp.observers]
        return cls(
            step_lines=step_lines,
            step_size=(step_w, step_h),
            block_heads=block_heads,
            child_lines=child_lines,
            block_w=max((w for w, _ in all_block_sizes), default=200),
            head_h=max((h for _, h in box_size_list(block_heads)), default=60),
            child_h=max((h for kids in child_lines for _, h in box_size_list(kids)), default=50),
            obs_lines=obs_lines,
            obs_w=max([box_size(ls, min_width=180)[0] for ls in obs_lines] + [180]),
        )


def _right_to_left(edge_id: str, a: Node, b: Node, label: str) -> Edge:
    """A labelled horizontal arrow from ``a``'s right side to ``b``'s left, at ``a``'s middle."""
    y = a.y + a.height / 2
    return Edge(
        edge_id,
        a.id,
        b.id,
        ((a.x + a.width, y), (b.x, y)),
        (Text(label, 12, color=INK),),
        color=ARROW,
    )


def _uses(step: StepInfo, names: Sequence[str]) -> bool:
    """Whether the step's source names one of ``names`` (a registry or class) as a word."""
    return any(re.search(rf"\b{re.escape(m)}\b", step.source) for m in names)


def _title() -> Node:
    return text_node(
        "axis-components-title",
        (
            Text("AXIS — components", 20, bold=True),
            Text(
                "Generated from the code (axis diagrams): registered steps and strategies, "
                "observers, tracker and store.",
                13,
                color="#4a5568",
            ),
            Text("Hollow arrow: extends / implements.  Dashed arrow: uses.", 13, color="#4a5568"),
        ),
        MARGIN,
        MARGIN,
    )


class _Drawing:
    """Places the diagram part by part. Four columns: framework base classes and observers;
    steps; the blocks (strategy interfaces, registries, trackers, stores) beside the first step
    that uses them; the blocks no step uses. Nodes and edges are kept in the order they are
    placed, which is the order of the written file (so keep it, or every image changes)."""

    def __init__(self, comp: Components) -> None:
        self.comp = comp
        self.measures = _Measures.of(comp)
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.block_nodes: dict[str, Node] = {}  # block key → its head box
        # The names whose mention in a step's source means the step uses the block.
        self.mentions = {b.key: [m for m in b.mentions if m] for b in comp.blocks}
        # Each block is drawn beside the first step that uses it.
        self.first_user: dict[str, int] = {}
        for i, step in enumerate(comp.steps):
            for b in comp.blocks:
                if b.key not in self.first_user and _uses(step, self.mentions[b.key]):
                    self.first_user[b.key] = i

    def framework(self) -> tuple[list[Node], list[float]]:
        """The top row and its arrows; returns its boxes and the x of the four columns."""
        framework = _framework_texts(self.comp)
        sizes = [box_size(lines, min_width=220) for _, lines in framework]
        m = self.measures
        col_w = [
            max(sizes[0][0], m.obs_w + INDENT),
            max(sizes[1][0], m.step_size[0] + INDENT),
            max(sizes[2][0], m.block_w + INDENT),
            sizes[3][0],
        ]
        col_x = [MARGIN]
        for w in col_w[:-1]:
            col_x.append(col_x[-1] + w + COL_GAP)
        row0_h = max(h for _, h in sizes)
        framework_nodes = []
        for (node_id, lines), (w, _), x in zip(framework, sizes, col_x, strict=True):
            framework_nodes.append(_box(node_id, lines, x, TOP, w, row0_h, FRAMEWORK))
        self.nodes += framework_nodes
        pipeline, step_base, frame_ctx, builder = framework_nodes
        self.edges.append(_right_to_left("runs", pipeline, step_base, "runs in order"))
        self.edges.append(_right_to_left("passes", step_base, frame_ctx, "ctx in → new ctx out"))
        self.edges.append(_right_to_left("builds", frame_ctx, builder, "builder() … build()"))
        return framework_nodes, col_x

    def observers(self, pipeline: Node, x: float, top: float) -> None:
        """``PipelineObserver`` under the Pipeline, notified by it, its subclasses below."""
        base_lines = _lines_of("PipelineObserver", "per step, per frame", "run started / finished")
        observer_base = _box(
            "PipelineObserver",
            base_lines,
            x,
            top,
            *box_size(base_lines, min_width=220),
            colors=OBSERVER,
        )
        self.nodes.append(observer_base)
        px = pipeline.x + pipeline.width / 2
        self.edges.append(
            Edge(
                "notifies",
                pipeline.id,
                observer_base.id,
                ((px, pipeline.y + pipeline.height), (px, observer_base.y)),
                (Text("notifies", 12, color=INK),),
                color=ARROW,
            )
        )
        oy = observer_base.y + observer_base.height + V_GAP
        observer_nodes = []
        for name, ls in zip(self.comp.observers, self.measures.obs_lines, strict=True):
            h = box_size(ls)[1]
            observer_nodes.append(_box(name, ls, x + INDENT, oy, self.measures.obs_w, h, OBSERVER))
            oy += h + V_GAP
        self.nodes += observer_nodes
        self.edges += _tree(observer_base, observer_nodes, "inherits")

    def block(self, index: int, top: float, x: float) -> float:
        """Block ``index``: its head at ``top``, its implementations indented below; returns
        where the next block may start."""
        b = self.comp.blocks[index]
        m = self.measures
        head = _box(f"iface-{b.key}", m.block_heads[index], x, top, m.block_w, m.head_h, INTERFACE)
        self.nodes.append(head)
        self.block_nodes[b.key] = head
        cy = top + m.head_h + V_GAP
        kids = []
        for (child, _), ls in zip(b.children, m.child_lines[index], strict=True):
            kid = _box(f"impl-{b.key}-{child}", ls, x + INDENT, cy, m.block_w, m.child_h, IMPL)
            kids.append(kid)
            cy += m.child_h + V_GAP
        self.nodes.extend(kids)
        self.edges.extend(_tree(head, kids, "implements"))
        return cy - V_GAP + BLOCK_GAP

    def steps(self, step_base: Node, step_x: float, block_x: float, top: float) -> list[Node]:
        """The steps down their column, each block beside the first step that uses it (a step
        moves down to clear the blocks above); returns the step boxes."""
        step_w, step_h = self.measures.step_size
        y_step = y_block = top
        step_nodes: list[Node] = []
        for i, (step, ls) in enumerate(zip(self.comp.steps, self.measures.step_lines, strict=True)):
            mine = [k for k, b in enumerate(self.comp.blocks) if self.first_user.get(b.key) == i]
            at = max(y_step, y_block) if mine else y_step
            node = _box(f"step-{step.name}", ls, step_x + INDENT, at, step_w, step_h, STEP)
            step_nodes.append(node)
            y_block_here = at
            for k in mine:
                y_block_here = self.block(k, y_block_here, block_x)
                y_block = y_block_here
            y_step = at + step_h + V_GAP
        self.nodes += step_nodes
        self.edges += _tree(step_base, step_nodes, "extends")
        return step_nodes

    def unused_blocks(self, x: float, top: float) -> None:
        """Blocks no step uses (stores, strategies whose step is not there yet), stacked."""
        y_free = top
        for k, b in enumerate(self.comp.blocks):
            if b.key not in self.block_nodes:
                y_free = self.block(k, y_free, x)

    def uses(self, step_nodes: Sequence[Node]) -> None:
        """A dashed arrow from each step to the head of each block it mentions: straight
        across to a block beside it, else from middle to middle."""
        steps = self.comp.steps
        for step, node in zip(steps, step_nodes, strict=True):
            for b in self.comp.blocks:
                if not _uses(step, self.mentions[b.key]):
                    continue
                head = self.block_nodes[b.key]
                if self.first_user.get(b.key) == steps.index(step):
                    y0 = y1 = node.y + min(node.height, head.height) / 2
                else:
                    y0, y1 = node.y + node.height / 2, head.y + head.height / 2
                self.edges.append(
                    Edge(
                        f"uses-{step.name}-{b.key}",
                        node.id,
                        head.id,
                        ((node.x + node.width, y0), (head.x, y1)),
                        (Text("uses", 11, color=INK),),
                        dashed=True,
                        end_arrow="open",
                        color=ARROW,
                    )
                )


def components_diagram(components: Components | None = None) -> Diagram:
    """The AXIS component diagram (introspected unless ``components`` is given)."""
    drawing = _Drawing(components or discover())
    (pipeline, step_base, _, _), col_x = drawing.framework()
    below = TOP + pipeline.height + 60  # the top of everything under the framework row
    drawing.observers(pipeline, col_x[0], below)
    step_nodes = drawing.steps(step_base, col_x[1], col_x[2], below)
    drawing.unused_blocks(col_x[3], below)  # under the builder
    drawing.uses(step_nodes)
    nodes = [_title(), *drawing.nodes]
    width = max(n.x + n.width for n in nodes) + MARGIN
    height = max(n.y + n.height for n in nodes) + MARGIN
    edges = tuple(drawing.edges)
    return place_labels(
        Diagram("axis-components", "AXIS — components", width, height, tuple(nodes), edges)
    )
