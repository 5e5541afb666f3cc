"""Exports animators open: Lottie (:mod:`.lottie`), animated SVG (:mod:`.svg_anim`) and
Blender Grease Pencil (:mod:`.grease_pencil`), all from ``lines.json`` and the frame files
(:mod:`.shot`), tracks resampled to a constant vertex count and keys thinned
(:mod:`.resample`).

:func:`export_chunks` is the one entry point the CLI and the service use.
"""

from __future__ import annotations

from collections.abc import Iterator

from talos.axis.export.grease_pencil import grease_pencil_chunks
from talos.axis.export.lottie import lottie_chunks
from talos.axis.export.resample import DEFAULT_TOLERANCE
from talos.axis.export.shot import Shot, build_shot, read_shot
from talos.axis.export.svg_anim import svg_chunks

# format name → (file suffix, media type)
FORMATS: dict[str, tuple[str, str]] = {
    "lottie": (".json", "application/json"),
    "svg-anim": (".svg", "image/svg+xml"),
    "grease-pencil": (".py", "text/x-python"),
}


def export_chunks(shot: Shot, fmt: str, tolerance: float = DEFAULT_TOLERANCE) -> Iterator[bytes]:
    """The file of ``shot`` in format ``fmt`` (a :data:`FORMATS` name) as byte chunks.
    ``tolerance`` (px) is the key reduction's (Lottie, SVG). ``ValueError`` for an unknown
    format or a negative tolerance."""
    if fmt == "lottie":
        return lottie_chunks(shot, tolerance)
    if fmt == "svg-anim":
        return svg_chunks(shot, tolerance)
    if fmt == "grease-pencil":
        return grease_pencil_chunks(shot)
    raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")


__all__ = ["DEFAULT_TOLERANCE", "FORMATS", "Shot", "build_shot", "export_chunks", "read_shot"]
