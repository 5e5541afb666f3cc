"""Lottie (bodymovin JSON): one shape layer per track, keyed where the track lives.

Layout (what After Effects and lottie-web show):

* one **null layer per AXIS layer** (``nm`` = the layer's name), and one **shape layer per
  track** (``nm`` = ``track <stroke_id>``) parented to its AXIS layer's null. Layers are
  listed top first (the shot's last layer on top), each track's layer in its AXIS layer's
  block. A track per layer keeps every line an object an animator can select, retime and
  correct on a few keys; ``ip``/``op`` are the first and the last-plus-one frame it lives in.
* the track is a **moving shape** (:mod:`~talos.axis.export.motion`): its path (``sh``) in
  its own coordinates, under its shape group's transform (``tr``: position, rotation,
  uniform scale, keyed); the stroke (``st``) follows the group at the layer's level, so the
  transform's scale does not change the line's width (After Effects scales a stroke with
  the group it is in). Where the engine held the line's shape (the shape hold), the path
  keeps one key for all those frames and only the transform moves; path keys are held
  (``h`` = 1: a re-fit is a new shape, not one to blend into), transform keys linear and
  thinned so that what a player draws stays within ``tolerance`` px of every frame. Every
  path key has the track's constant vertex count. A track that disappears for some frames
  and comes back has hold-keyed opacity (0 while it is gone).
* **pressure → width**: a stroke (``st``) whose width is held-keyed to the stroke's mean
  drawn width (``width × pressure``, as AXIS draws it) wherever it changes by more than a
  quarter of the tolerance. The trade-off: Lottie strokes have one
  width along their length, so a line that thins towards its ends is drawn with its mean
  width; a filled outline would keep the taper but doubles the vertices, and its two sides
  stop being the line an animator edits. AXIS's own SVG frames draw strokes whose width
  varies by at most 1 px with the mean width too.
* colours from the style profile (``line_color``, ``layer_line_colors``; ``background`` as a
  solid layer at the bottom), frame rate ``fr`` and size ``w``/``h`` from ``lines.json``.

Numbers are rounded to 0.1 px (a track's path to 0.01 px where its scale grows past 1.5;
rotation 0.001°, scale 0.001 %, widths 0.01 px) *before* keys are dropped, so the error
the thinning holds within the tolerance is that of what is written; whole numbers are
written without a fraction. Linear keys have ``o`` = 0, ``i`` = 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from talos import __version__
from talos.axis.export.motion import TrackMotion, motion_keys, track_motion
from talos.axis.export.resample import (
    DEFAULT_TOLERANCE,
    WIDTH_TOLERANCE_SHARE,
    TrackAnimation,
    held_keys,
    track_animations,
)
from talos.axis.export.shot import Shot

LOTTIE_VERSION = "5.7.4"  # the bodymovin schema version written (lottie-web reads 4.x–5.x)
_LINEAR_OUT = {"x": [0], "y": [0]}
_LINEAR_IN = {"x": [1], "y": [1]}
PX_DECIMALS = 1  # positions and paths: 0.1 px, well under the default tolerance's 0.5
_GROWN = 1.5  # a track scaled up past this keeps its path to 0.01 px (errors grow with it)


def numbers(values: np.ndarray, decimals: int) -> list[Any]:
    """``values`` rounded to ``decimals`` as nested lists, whole numbers as ints (``12``,
    not ``12.0``: JSON reads them the same, in fewer bytes)."""
    rounded = np.round(values, decimals) + 0.0  # + 0.0: no -0.0
    out = rounded.astype(object)
    whole = rounded == np.trunc(rounded)
    out[whole] = rounded[whole].astype(np.int64)
    listed: list[Any] = out.tolist()
    return listed


def _rounded(motion: TrackMotion) -> TrackMotion:
    """``motion`` as it will be written (see the module docstring)."""
    grown = len(motion.scale) > 0 and float(motion.scale.max()) > _GROWN
    path = PX_DECIMALS + 1 if grown else PX_DECIMALS
    degrees = np.round(np.degrees(motion.rotation), 3)
    return replace(
        motion,
        position=np.round(motion.position, PX_DECIMALS),
        rotation=np.radians(degrees),
        scale=np.round(100.0 * motion.scale, 3) / 100.0,
        vertices=np.round(motion.vertices, path),
        in_tangents=np.round(motion.in_tangents, path),
        out_tangents=np.round(motion.out_tangents, path),
    )


def hex_rgba(color: str) -> list[float]:
    """``#rrggbb`` → Lottie's ``[r, g, b, 1]`` in 0..1."""
    return [round(int(color[i : i + 2], 16) / 255.0, 4) for i in (1, 3, 5)] + [1.0]


def _static(value: Any) -> dict[str, Any]:
    return {"a": 0, "k": value}


def _transform(opacity: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "o": opacity or _static(100),
        "r": _static(0),
        "p": _static([0, 0, 0]),
        "a": _static([0, 0, 0]),
        "s": _static([100, 100, 100]),
        "sk": _static(0),
        "sa": _static(0),
    }


def _shapes(motion: TrackMotion, closed: bool, rows: np.ndarray) -> list[dict[str, Any]]:
    """The (rounded) local path at ``rows`` as Lottie shapes, all written in one go."""
    i, o, v = (numbers(a[rows], PX_DECIMALS + 1) for a in motion.tangents_and_vertices())
    return [{"i": i[j], "o": o[j], "v": v[j], "c": closed} for j in range(len(rows))]


def _keyed(
    frames: np.ndarray, rows: np.ndarray, values: list[list[Any]], hold: bool = False
) -> dict[str, Any]:
    """A property keyed at ``frames[rows]`` with ``values`` (each a key's ``s``: a list),
    interpolated linearly or, with ``hold``, held from key to key; static when the keys all
    agree (a one-value list stands for its value)."""
    if all(v == values[0] for v in values[1:]):
        return _static(values[0][0] if len(values[0]) == 1 else values[0])
    keys: list[dict[str, Any]] = []
    for j, row in enumerate(rows):
        key: dict[str, Any] = {"t": int(frames[row]), "s": values[j]}
        if j < len(rows) - 1:
            if hold:
                key["h"] = 1
            else:
                key["o"], key["i"] = _LINEAR_OUT, _LINEAR_IN
        keys.append(key)
    return {"a": 1, "k": keys}


def _opacity(track: TrackAnimation) -> dict[str, Any] | None:
    spans = track.spans
    if len(spans) == 1:
        return None
    keys: list[dict[str, Any]] = []
    for j, (first, last) in enumerate(spans):
        keys.append({"t": first, "s": [100], "h": 1})
        if j < len(spans) - 1:
            keys.append({"t": last + 1, "s": [0], "h": 1})
    keys[-1].pop("h")
    return {"a": 1, "k": keys}


def _motion_transform(motion: TrackMotion, rows: list[np.ndarray]) -> dict[str, Any]:
    """The shape group's transform, position (px), rotation (degrees, clockwise on screen)
    and uniform scale (percent) about the local path's origin, each keyed at its ``rows``."""
    frames = motion.frames
    at, turn, size = rows
    position = numbers(motion.position[at], PX_DECIMALS)
    rotation = numbers(np.degrees(motion.rotation[turn]), 3)
    scale = numbers(100.0 * motion.scale[size], 3)
    return {
        **_transform(),
        "p": _keyed(frames, at, position),
        "r": _keyed(frames, turn, [[r] for r in rotation]),
        "s": _keyed(frames, size, [[s, s] for s in scale]),
    }


def track_layer(
    track: TrackAnimation, index: int, parent: int, color: str, tolerance: float
) -> dict[str, Any]:
    """The shape layer of one track (see the module docstring)."""
    motion = _rounded(track_motion(track))
    path_rows, transform_rows = motion_keys(track, motion, tolerance)
    width_rows = held_keys(
        track.frames, track.widths[:, None, None], tolerance * WIDTH_TOLERANCE_SHARE
    )
    shapes = _shapes(motion, track.closed, path_rows)
    widths = numbers(track.widths[width_rows], 2)
    # The stroke sits beside the moving group, not in it: drawn in the layer's space, so the
    # group's scale moves the line but does not thicken or thin it.
    group = {
        "ty": "gr",
        "nm": "line",
        "it": [
            {
                "ty": "sh",
                "nm": "path",
                "d": 1,
                "ks": _keyed(track.frames, path_rows, [[shape] for shape in shapes], hold=True),
            },
            {"ty": "tr", **_motion_transform(motion, transform_rows)},
        ],
    }
    ink = {
        "ty": "st",
        "nm": "ink",
        "c": _static(hex_rgba(color)),
        "o": _static(100),
        "w": _keyed(track.frames, width_rows, [[w] for w in widths], hold=True),
        "lc": 2,  # round caps and joins: how AXIS draws its strokes
        "lj": 2,
        "ml": 4,
    }
    return {
        "ddd": 0,
        "ind": index,
        "ty": 4,
        "nm": f"track {track.track_id}",
        "parent": parent,
        "sr": 1,
        "ks": _transform(_opacity(track)),
        "ao": 0,
        "shapes": [group, ink],
        "ip": int(track.frames[0]),
        "op": int(track.frames[-1]) + 1,
        "st": 0,
        "bm": 0,
    }


def _layers(shot: Shot, tolerance: float) -> Iterator[dict[str, Any]]:
    """The animation's layers, top first: tracks by AXIS layer, the nulls, the background."""
    frames = max(len(shot.frames), 1)
    tracks = track_animations(shot)
    nulls = {name: i + 1 for i, name in enumerate(shot.layers)}
    index = len(nulls) + 1
    for name in reversed(shot.layers):  # top layer first
        for track in tracks:
            if track.layer == name:
                yield track_layer(track, index, nulls[name], shot.line_color(name), tolerance)
                index += 1
    for name, ind in nulls.items():
        yield (
            {
                "ddd": 0,
                "ind": ind,
                "ty": 3,
                "nm": name,
                "sr": 1,
                # Pixel centres at integers, as in AXIS's frames: half a pixel to Lottie's.
                "ks": {**_transform(_static(0)), "p": _static([0.5, 0.5, 0])},
                "ao": 0,
                "ip": 0,
                "op": frames,
                "st": 0,
                "bm": 0,
            }
        )
    if shot.background:
        yield (
            {
                "ddd": 0,
                "ind": index,
                "ty": 1,
                "nm": "background",
                "sr": 1,
                "ks": _transform(),
                "ao": 0,
                "sw": shot.width,
                "sh": shot.height,
                "sc": shot.background,
                "ip": 0,
                "op": frames,
                "st": 0,
                "bm": 0,
            }
        )


def _header(shot: Shot) -> dict[str, Any]:
    """Everything of the animation but its layers."""
    frames = max(len(shot.frames), 1)
    return {
        "v": LOTTIE_VERSION,
        "fr": shot.fps,
        "ip": 0,
        "op": frames,
        "w": shot.width,
        "h": shot.height,
        "nm": shot.run_id,
        "ddd": 0,
        "assets": [],
        "layers": [],
        "markers": [],
        "meta": {"g": f"talos-axis {__version__}"},
    }


def lottie_document(shot: Shot, tolerance: float = DEFAULT_TOLERANCE) -> dict[str, Any]:
    """The Lottie animation of ``shot`` as a dict (see the module docstring); ``tolerance``
    (px) is the key reduction's. An empty shot is a valid animation with no track layers."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 px, got {tolerance}")
    return {**_header(shot), "layers": list(_layers(shot, tolerance))}


def lottie_chunks(shot: Shot, tolerance: float = DEFAULT_TOLERANCE) -> Iterator[bytes]:
    """The Lottie file of ``shot`` as UTF-8 JSON (compact, no spaces), a chunk per layer:
    the same bytes as :func:`lottie_document` dumped compactly."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 px, got {tolerance}")
    before, after = json.dumps(_header(shot), separators=(",", ":")).split('"layers":[]')
    yield (before + '"layers":[').encode()
    for n, layer in enumerate(_layers(shot, tolerance)):
        yield (("," if n else "") + json.dumps(layer, separators=(",", ":"))).encode()
    yield ("]" + after).encode()
