"""A traced shot as the exporters see it: the manifest's facts and every frame's strokes.

The exporters work from ``lines.json`` and the frame files, read through
:mod:`talos.axis.io.readback` (an output folder) or handed over by the service (the frames
as edited). Circles and triangles become closed Bézier strokes here, so that every exporter
has one kind of thing to animate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from talos.axis.errors import InputError
from talos.axis.io.frames import circle_from_dict, stroke_from_dict, triangle_from_dict
from talos.axis.io.manifest import MANIFEST_FILE
from talos.axis.io.readback import read_frame, read_manifest
from talos.axis.strokes import Circle, Stroke

# A cubic's inner control points at this share of the radius draw a quarter circle
# (4/3 · tan(π/8)): a circle is four such segments.
_KAPPA = 0.5522847498
PRIMITIVE_ID_BASE = 2_000_000  # circles and triangles without an id, clear of traced ids


@dataclass(frozen=True)
class ShotFrame:
    """One output frame: its position in the shot (the exported frame number), the trace's
    frame ``index``, its ``time`` (s) and what it holds."""

    position: int
    index: int
    time: float
    strokes: tuple[Stroke, ...]


@dataclass(frozen=True)
class Shot:
    """What every exporter needs: frame size (px), rate (frames/s), the layers bottom to top,
    the style profile (a dict of :class:`talos.chroma` profile fields, or None), the track
    table (``stroke_id`` → its ``lines.json`` row) and the frames in order."""

    run_id: str
    width: int
    height: int
    fps: float
    layers: tuple[str, ...]
    frames: tuple[ShotFrame, ...]
    tracks: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    style: Mapping[str, Any] | None = None
    camera: Mapping[str, Any] = field(default_factory=dict)

    def line_color(self, layer: str) -> str:
        """``#rrggbb`` of a layer's lines: the style profile's, else near-black ink."""
        style = self.style or {}
        colors = style.get("layer_line_colors") or {}
        return str(colors.get(layer) or style.get("line_color") or "#141414")

    @property
    def background(self) -> str | None:
        """The style profile's paper colour, or None (transparent)."""
        return None if not self.style else self.style.get("background")


def circle_stroke(circle: Circle) -> Stroke:
    """A circle as a closed 4-segment Bézier chain of constant width."""
    cx, cy, r = float(circle.center[0]), float(circle.center[1]), float(circle.radius)
    k = _KAPPA * r
    cp = np.array(
        [
            [cx + r, cy],
            [cx + r, cy + k],
            [cx + k, cy + r],
            [cx, cy + r],
            [cx - k, cy + r],
            [cx - r, cy + k],
            [cx - r, cy],
            [cx - r, cy - k],
            [cx - k, cy - r],
            [cx, cy - r],
            [cx + k, cy - r],
            [cx + r, cy - k],
            [cx + r, cy],
        ]
    )
    return Stroke(
        stroke_id=-1 if circle.stroke_id is None else int(circle.stroke_id),
        control_points=cp,
        pressure=np.ones(5, np.float32),
        closed=True,
        layer=circle.layer,
        width=circle.width,
    )


def frame_strokes(data: Mapping[str, Any]) -> tuple[Stroke, ...]:
    """A frame file's strokes, circles and triangles, all as strokes. Primitives without a
    ``stroke_id`` get ``PRIMITIVE_ID_BASE + i`` (their place in the frame)."""
    strokes = [stroke_from_dict(s) for s in data.get("strokes", ())]
    extra: list[Stroke] = [circle_stroke(circle_from_dict(c)) for c in data.get("circles", ())]
    for t in data.get("triangles", ()):
        tri = triangle_from_dict(t)
        extra.append(
            Stroke.from_polyline(
                np.array(tri.vertices),
                -1 if tri.stroke_id is None else int(tri.stroke_id),
                closed=True,
                layer=tri.layer,
                width=tri.width,
            )
        )
    for i, stroke in enumerate(extra):
        if stroke.stroke_id < 0:
            object.__setattr__(stroke, "stroke_id", PRIMITIVE_ID_BASE + i)
    return tuple(strokes + extra)


def check_version(manifest: Mapping[str, Any], where: str) -> None:
    """:class:`InputError` unless ``manifest`` is a ``talos.axis.lines`` document of format
    version 1.x (the only one the exporters read)."""
    kind, version = manifest.get("format"), str(manifest.get("format_version", ""))
    if kind != "talos.axis.lines":
        raise InputError(f"{where} is not an AXIS lines manifest (format {kind!r})")
    if version.split(".")[0] != "1":
        raise InputError(
            f"{where} has manifest format version {version or 'none'!r}; this AXIS reads 1.x"
        )


def build_shot(
    manifest: Mapping[str, Any],
    frame_data: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    where: str = MANIFEST_FILE,
) -> Shot:
    """The :class:`Shot` of a manifest whose frame entries ``frame_data`` turns into frame
    documents (from a folder, or the service's edited frames). ``where`` names the manifest
    in errors."""
    check_version(manifest, where)
    try:
        size = manifest["frame_size"]
        width, height = int(size["width"]), int(size["height"])
        fps = float(manifest.get("fps") or 24.0)
        entries: Sequence[Mapping[str, Any]] = manifest["frames"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{where} is not a trace manifest: {exc!r}") from None
    layers = [
        str(layer["name"])
        for layer in sorted(manifest.get("layers") or [], key=lambda x: x.get("order", 0))
    ]
    frames = []
    for position, entry in enumerate(entries):
        data = frame_data(entry)
        try:
            strokes = frame_strokes(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"frame {entry.get('path')}: unreadable stroke: {exc}") from None
        frames.append(
            ShotFrame(position, int(entry["index"]), float(entry.get("time", 0.0)), strokes)
        )
        for stroke in strokes:
            if stroke.layer not in layers:
                layers.append(stroke.layer)
    style = manifest.get("style_profile")
    return Shot(
        run_id=str(manifest.get("run_id", "axis")),
        width=width,
        height=height,
        fps=fps,
        layers=tuple(layers),
        frames=tuple(frames),
        tracks={int(row["stroke_id"]): row for row in manifest.get("tracks") or []},
        style=style if isinstance(style, Mapping) else None,
        camera=dict(manifest.get("camera") or {}),
    )


def read_shot(outdir: str | Path, style: Mapping[str, Any] | None = None) -> Shot:
    """The shot in an ``axis trace`` output folder; ``style`` (profile fields) overrides the
    manifest's. :class:`InputError` names the file that is missing or wrong."""
    folder = Path(outdir)
    manifest = read_manifest(folder, allow_empty=True)
    shot = build_shot(
        manifest, lambda entry: read_frame(folder, entry), str(folder / MANIFEST_FILE)
    )
    if style is not None:
        shot = Shot(**{**shot.__dict__, "style": style})
    return shot


def all_strokes(shot: Shot) -> Iterable[tuple[ShotFrame, Stroke]]:
    """Every (frame, stroke) of the shot in frame order."""
    for frame in shot.frames:
        for stroke in frame.strokes:
            yield frame, stroke
