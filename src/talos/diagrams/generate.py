"""Build all four diagrams, write them, and tell which committed files are stale."""

from __future__ import annotations

from pathlib import Path

from talos.diagrams.architecture import containers_diagram, context_diagram
from talos.diagrams.components import components_diagram
from talos.diagrams.drawio import Diagram, to_drawio
from talos.diagrams.png import model_hash, read_model_hash, render_png
from talos.diagrams.sequence import sequence_from_trace

DEFAULT_OUT = Path("docs/images")
DEFAULT_TRACE = Path("docs/traces/prompt-to-animation.jsonl")
DIAGRAM_NAMES = ("c4-context", "c4-containers", "axis-components", "sequence-prompt-to-animation")


def build_all(trace: str | Path = DEFAULT_TRACE, job_id: str | None = None) -> list[Diagram]:
    """The four diagrams, from the code and the call log at ``trace`` (read first: a bad trace
    fails before the slow introspection)."""
    sequence = sequence_from_trace(trace, job_id)
    return [context_diagram(), containers_diagram(), components_diagram(), sequence]


def write_all(diagrams: list[Diagram], out_dir: str | Path = DEFAULT_OUT) -> list[Path]:
    """Write ``NAME.drawio`` and ``NAME.png`` for each diagram; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for diagram in diagrams:
        drawio_path = out / f"{diagram.name}.drawio"
        png_path = out / f"{diagram.name}.png"
        drawio_path.write_text(to_drawio(diagram), encoding="utf-8")
        png_path.write_bytes(render_png(diagram))
        written += [drawio_path, png_path]
    return written


def stale(diagrams: list[Diagram], out_dir: str | Path = DEFAULT_OUT) -> list[Path]:
    """Files in ``out_dir`` that differ from what the code generates: ``.drawio`` byte for byte,
    ``.png`` by the model hash it carries (pixels may differ between font rasterizers)."""
    out = Path(out_dir)
    found = []
    for diagram in diagrams:
        drawio_path = out / f"{diagram.name}.drawio"
        png_path = out / f"{diagram.name}.png"
        try:
            current = drawio_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != to_drawio(diagram):
            found.append(drawio_path)
        try:
            png_hash = read_model_hash(png_path)
        except (OSError, ValueError):
            png_hash = None
        if png_hash != model_hash(diagram):
            found.append(png_path)
    return found
