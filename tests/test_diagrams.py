"""Architecture diagrams: generated from the code, never stale, valid draw.io, readable."""

from __future__ import annotations

import html
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageFont
from tests.helpers.processes import REPO_ROOT, assert_clean_failure, run_axis

from talos.axis.context import FrameContext
from talos.axis.registry import Registry
from talos.axis.steps import STEPS
from talos.axis.strategies import EDGE_DETECTORS, VECTORIZERS
from talos.axis.types import ProcessingStep
from talos.diagrams.architecture import containers_diagram, context_diagram
from talos.diagrams.components import components_diagram
from talos.diagrams.discovery import discover
from talos.diagrams.drawio import to_drawio
from talos.diagrams.generate import DIAGRAM_NAMES
from talos.diagrams.layout import find_overlaps, text_width
from talos.diagrams.png import model_hash, read_model_hash, render_png
from talos.diagrams.sequence import TraceError, load_trace, select_job, sequence_from_trace

IMAGES = REPO_ROOT / "docs" / "images"
TRACE = REPO_ROOT / "docs" / "traces" / "prompt-to-animation.jsonl"


def _parse(path: Path) -> tuple[dict[str, str], list[ET.Element]]:
    """Vertex id → plain label text, and the edge cells, of a .drawio file."""
    root = ET.parse(path).getroot()
    assert root.tag == "mxfile"
    model = root.find("diagram/mxGraphModel")
    assert model is not None, "uncompressed <diagram><mxGraphModel> expected"
    cells = model.findall("root/mxCell")
    vertices: dict[str, str] = {}
    edges = []
    for cell in cells:
        if cell.get("vertex") == "1":
            geometry = cell.find("mxGeometry")
            assert geometry is not None and float(geometry.get("width", 0)) > 0
            assert float(geometry.get("height", 0)) > 0
            assert "shape=image" not in cell.get("style", "")
            label = re.sub(r"<br>", "\n", cell.get("value", ""))
            vertices[cell.get("id", "")] = html.unescape(re.sub(r"<[^>]+>", "", label))
        elif cell.get("edge") == "1":
            edges.append(cell)
    return vertices, edges


def _edge_label(cell: ET.Element) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", cell.get("value", ""))).strip()


@pytest.mark.parametrize("name", DIAGRAM_NAMES)
def test_each_drawio_parses_with_real_shapes_and_connected_edges(name: str) -> None:
    vertices, edges = _parse(IMAGES / f"{name}.drawio")
    assert len(vertices) >= 4 and edges
    for edge in edges:
        assert edge.get("source") in vertices, edge.attrib
        assert edge.get("target") in vertices, edge.attrib
    assert (IMAGES / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_container_diagram_has_every_container_and_only_labelled_arrows() -> None:
    vertices, edges = _parse(IMAGES / "c4-containers.drawio")
    names = {text.split("\n")[0] for text in vertices.values()}
    for expected in (
        "Orchestrator",
        "PRISM",
        "AXIS",
        "CHROMA",
        "Shared Data Store",
        "Job database",
        "Queue / workers",
    ):
        assert expected in names
    labels = [_edge_label(edge) for edge in edges]
    assert all(labels), "every container arrow carries its API call or data"
    text = " ".join(labels)
    for call in (
        "POST /jobs",
        "POST /direct",
        "POST /generate",
        "POST /colorize",
        "POST /callbacks/job-completed",
        "PUT /{job_id}/axis/lines.json",
    ):
        assert call in text


def test_context_diagram_shows_the_people_and_external_systems() -> None:
    vertices, edges = _parse(IMAGES / "c4-context.drawio")
    names = {text.split("\n")[0] for text in vertices.values()}
    for expected in (
        "TALOS",
        "Animator / Director",
        "Object storage",
        "Source video locations",
        "LLM provider (optional)",
    ):
        assert expected in names
    assert all(_edge_label(edge) for edge in edges)


def test_component_diagram_shows_every_registered_step_and_strategy() -> None:
    vertices, _ = _parse(IMAGES / "axis-components.drawio")
    text = "\n".join(vertices.values())
    ours = [n for n in STEPS.names() if STEPS.get(n).__module__.startswith("talos.")]
    for step in ours:
        assert f"step-{step}" in vertices, step
    for registry in (EDGE_DETECTORS, VECTORIZERS):
        for name in registry.names():
            assert name in text
    for cls in (
        "Pipeline",
        "ProcessingStep",
        "PipelineObserver",
        "MetricsLogger",
        "FrameContext",
        "FrameContextBuilder",
        "EdgeDetector",
        "Vectorizer",
    ):
        assert cls in text


def test_sequence_diagram_shows_the_recorded_calls_in_time_order() -> None:
    vertices, edges = _parse(IMAGES / "sequence-prompt-to-animation.drawio")
    _, messages = load_trace(TRACE)
    for module in {m.source for m in messages} | {m.target for m in messages}:
        assert f"lifeline-{module}" in vertices
    labels = [_edge_label(edge) for edge in edges]
    assert labels[0] == "POST /jobs" and labels[1] == "202 Accepted"
    requests = [label.split("  ")[0] for label in labels[::2]]
    assert requests == [f"{m.method} {m.path}" for m in messages]
    assert (
        labels.index("POST /direct  (attempt 1)")
        < labels.index("POST /generate  (attempt 1)")
        < labels.index("POST /colorize  (attempt 1)")
    )
    assert sum("POST /callbacks/job-completed" in label for label in labels) == 3


def test_sequence_diagram_shows_a_retry_with_its_backoff(tmp_path: Path) -> None:
    calls = [
        _call(1.0, "user", "orchestrator", "POST", "/jobs", 202, "j1"),
        _call(2.0, "orchestrator", "axis", "POST", "/generate", 503, "j1", "attempt 1"),
        _call(3.0, "orchestrator", "axis", "POST", "/generate", 202, "j1", "attempt 2"),
        _call(4.0, "axis", "orchestrator", "POST", "/callbacks/job-completed", 200, "j1"),
    ]
    log = tmp_path / "calls.jsonl"
    log.write_text("".join(json.dumps(c) + "\n" for c in calls))
    labels = [edge.lines[0].text for edge in sequence_from_trace(log).edges]
    first = labels.index("POST /generate  (attempt 1)")
    assert labels[first + 1] == "503 Service Unavailable"
    assert labels[first + 2] == "POST /generate  (attempt 2)  · retry after 1.0 s"
    assert labels[first + 3] == "202 Accepted"


@pytest.mark.e2e
def test_committed_images_match_what_the_code_generates(tmp_path: Path) -> None:
    result = run_axis("diagrams", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in DIAGRAM_NAMES:
        fresh, committed = tmp_path / f"{name}.drawio", IMAGES / f"{name}.drawio"
        assert fresh.read_bytes() == committed.read_bytes(), (
            f"{committed} is stale: run make diagrams"
        )
        assert read_model_hash(tmp_path / f"{name}.png") == read_model_hash(IMAGES / f"{name}.png")
    check = run_axis("diagrams", "--check")
    assert check.returncode == 0, check.stderr
    assert "up to date" in check.stdout


@pytest.mark.e2e
def test_check_names_each_stale_file(tmp_path: Path) -> None:
    shutil.copytree(IMAGES, tmp_path, dirs_exist_ok=True)
    with (tmp_path / "c4-context.drawio").open("a") as stale_file:
        stale_file.write(" ")
    (tmp_path / "axis-components.png").unlink()
    result = run_axis("diagrams", "--check", "--out", str(tmp_path))
    assert_clean_failure(result, "c4-context.drawio", "axis-components.png", "stale")
    assert "c4-containers" not in result.stderr


@pytest.mark.e2e
def test_bad_trace_and_bad_output_folder_fail_cleanly(tmp_path: Path) -> None:
    missing = run_axis("diagrams", "--trace", str(tmp_path / "none.jsonl"), "--out", str(tmp_path))
    assert_clean_failure(missing, "trace file not found")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert_clean_failure(run_axis("diagrams", "--out", str(blocker)), "cannot write diagrams")
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("{not json\n")
    with pytest.raises(TraceError, match="not JSON lines"):
        load_trace(garbage)
    with pytest.raises(TraceError, match="no calls for job 'nope'"):
        load_trace(TRACE, "nope")


def _call(
    ts: float,
    source: str,
    target: str,
    method: str,
    path: str,
    status: int | None,
    job: str | None,
    note: str | None = None,
) -> dict[str, object]:
    entry: dict[str, object] = {
        "ts": ts,
        "source": source,
        "target": target,
        "method": method,
        "path": path,
        "status": status,
        "job_id": job,
    }
    if note:
        entry["note"] = note
    return entry


def test_trace_reading_picks_one_job_collapses_polling_and_hides_ids(tmp_path: Path) -> None:
    calls = [
        _call(5.0, "orchestrator", "axis", "POST", "/generate", None, "b1", "attempt 1"),
        _call(1.0, "user", "orchestrator", "POST", "/jobs", 202, "b1"),
        _call(2.0, "user", "orchestrator", "GET", "/jobs/b1", 200, "b1"),
        _call(3.0, "user", "orchestrator", "GET", "/jobs/b1", 200, "b1"),
        _call(0.5, "orchestrator", "prism", "POST", "/direct", 202, "other"),
        _call(4.0, "user", "orchestrator", "GET", "/health", 200, None),
    ]
    log = tmp_path / "calls.jsonl"
    log.write_text("".join(json.dumps(c) + "\n" for c in calls))
    job, messages = load_trace(log)
    assert job == "b1"
    assert [(m.path, m.repeat) for m in messages] == [
        ("/jobs", 1),
        ("/jobs/{job_id}", 2),
        ("/generate", 1),
    ]
    diagram = sequence_from_trace(log)
    answers = [e for e in diagram.edges if e.id.endswith("-answer")]
    assert answers[-1].lines[0].text == "no answer" and answers[-1].color == "#c53030"
    assert "×2" in diagram.edges[2].lines[0].text
    assert select_job(calls, "other")[1][0].target == "prism"
    (tmp_path / "short.jsonl").write_text('{"ts": 1, "source": "user"}\n')
    with pytest.raises(TraceError, match="lacks target"):
        load_trace(tmp_path / "short.jsonl")
    bad_status = _call(1.0, "user", "orchestrator", "POST", "/jobs", "202", "b1")
    (tmp_path / "typed.jsonl").write_text(json.dumps(bad_status) + "\n")
    with pytest.raises(TraceError, match="integer or null status"):
        load_trace(tmp_path / "typed.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(TraceError, match="no calls"):
        load_trace(tmp_path / "empty.jsonl")


class _GlazeStep(ProcessingStep):
    """A step the diagram has never seen; it names the edge registry."""

    name = "glaze"

    def __init__(self, build: object) -> None:
        self.detector = EDGE_DETECTORS

    def process(self, ctx: FrameContext) -> FrameContext:
        return ctx


def test_a_newly_registered_step_appears_by_itself() -> None:
    registry: Registry[ProcessingStep] = Registry("step")
    for name in STEPS.names():
        registry.register(name)(STEPS.get(name))
    registry.register("glaze")(_GlazeStep)
    diagram = components_diagram(discover(registry, ["edges", "glaze"]))
    ids = [node.id for node in diagram.nodes]
    assert "step-glaze" in ids
    assert ids.index("step-glaze") == ids.index("step-edges") + 1  # default order first
    assert any(e.source == "step-glaze" and e.target == "iface-EdgeDetector" for e in diagram.edges)
    assert any(e.source == "step-glaze" and e.target == "ProcessingStep" for e in diagram.edges)
    assert find_overlaps(diagram) == []


def test_diagrams_have_no_overlaps_and_render_deterministically() -> None:
    diagrams = [
        context_diagram(),
        containers_diagram(),
        components_diagram(),
        sequence_from_trace(TRACE),
    ]
    for diagram in diagrams:
        assert find_overlaps(diagram) == [], diagram.name
        assert to_drawio(diagram) == to_drawio(diagram)
    png = render_png(diagrams[0])
    assert png == render_png(diagrams[0])
    assert read_model_hash(png) == model_hash(diagrams[0])
    with Image.open(IMAGES / "c4-context.png") as image:
        assert image.width == 2 * diagrams[0].width  # rendered at 2 device px per px


def test_overlap_check_catches_a_label_on_a_box() -> None:
    from dataclasses import replace

    diagram = context_diagram()
    squeezed = replace(
        diagram,
        nodes=tuple(replace(n, x=n.x + 150) if n.id == "video" else n for n in diagram.nodes),
    )
    assert any("overlaps box video" in p or "label of" in p for p in find_overlaps(squeezed))


def test_width_table_matches_the_bundled_font() -> None:
    from importlib import resources

    for bold, file in ((False, "DejaVuSans.ttf"), (True, "DejaVuSans-Bold.ttf")):
        with resources.as_file(resources.files("talos.diagrams") / "fonts" / file) as path:
            font = ImageFont.truetype(str(path), 200)
        text = "POST /callbacks/job-completed {job_id} Orchestrator"
        assert text_width(text, 200, bold) == pytest.approx(font.getlength(text), rel=0.01)


def test_store_and_tracker_modules_appear_when_they_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    import abc
    import sys
    import types

    store = types.ModuleType("talos.store")
    base = abc.ABCMeta(
        "Store",
        (abc.ABC,),
        {"__module__": "talos.store", "get": abc.abstractmethod(lambda self: None)},
    )
    store.Store = base
    store.LocalStore = type(
        "LocalStore", (base,), {"__module__": "talos.store", "get": lambda s: 1}
    )
    tracking = types.ModuleType("talos.axis.tracking")
    tracking.StrokeTracker = type("StrokeTracker", (), {"__module__": "talos.axis.tracking"})
    monkeypatch.setitem(sys.modules, "talos.store", store)
    monkeypatch.setitem(sys.modules, "talos.axis.tracking", tracking)
    diagram = components_diagram()
    ids = {node.id for node in diagram.nodes}
    assert {"iface-Store", "impl-Store-LocalStore", "iface-StrokeTracker"} <= ids
    assert find_overlaps(diagram) == []
