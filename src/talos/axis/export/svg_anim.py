"""Animated SVG: one self-contained ``.svg`` that plays the shot (SMIL ``<animate>``).

Per track a ``<path data-stroke-id>`` in its layer's ``<g>``, with

* ``<animate attributeName="d">`` over the track's thinned keys (the same resampling and key
  reduction as the Lottie export: every value has the track's constant vertex count and the
  same commands, so browsers interpolate between them);
* ``<animate attributeName="stroke-width">`` (pressure as the stroke's mean drawn width, the
  Lottie export's trade-off);
* ``<animate attributeName="visibility" calcMode="discrete">``: visible only in the frames
  the track lives in.

One animation cycle is the shot: ``dur`` = frames / fps, frame ``f`` at ``f / fps`` s.
Visibility switches a thousandth of a frame early, so that sampling exactly at a frame's time
never lands on the switch. Like AXIS's SVG frames, everything is moved by half a pixel
(pixel centres at integers).
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.sax.saxutils import quoteattr

import numpy as np

from talos.axis.export.resample import (
    DEFAULT_TOLERANCE,
    WIDTH_TOLERANCE_SHARE,
    TrackAnimation,
    reduce_keys,
    track_animations,
)
from talos.axis.export.shot import Shot
from talos.axis.render.svg import bezier_paths_data

SWITCH_EARLY = 1e-3  # frames: visibility changes this much before the frame it belongs to


def chains(track: TrackAnimation, rows: np.ndarray) -> list[np.ndarray]:
    """The track's Bézier chains ``(3n + 1, 2)`` at ``rows`` (closed tracks end on their
    first knot)."""
    v, i, o = track.vertices[rows], track.in_tangents[rows], track.out_tangents[rows]
    if track.closed:
        v = np.concatenate([v, v[:, :1]], axis=1)
        i = np.concatenate([i, i[:, :1]], axis=1)
        o = np.concatenate([o, o[:, :1]], axis=1)
    k = v.shape[1]
    cp = np.empty((len(rows), 3 * (k - 1) + 1, 2))
    cp[:, 0::3] = v
    cp[:, 1::3] = (v + o)[:, :-1]
    cp[:, 2::3] = (v + i)[:, 1:]
    return list(cp)


def _times(frames: np.ndarray, total: int) -> list[str]:
    return [f"{t:.6g}" for t in np.asarray(frames, np.float64) / total]


def _keyed(name: str, frames: np.ndarray, values: list[str], total: int, dur: str) -> str:
    """An ``<animate>`` of ``name`` through ``values`` at ``frames``, held before the first
    and after the last (keyTimes must run from 0 to 1)."""
    f = list(np.asarray(frames, np.int64))
    vals = list(values)
    if f[0] > 0:
        f.insert(0, 0)
        vals.insert(0, vals[0])
    if f[-1] < total:
        f.append(total)
        vals.append(vals[-1])
    return (
        f'<animate attributeName="{name}" dur="{dur}" repeatCount="indefinite" '
        f'calcMode="linear" keyTimes="{";".join(_times(np.array(f), total))}" '
        f"values={quoteattr(';'.join(vals))}/>"
    )


def _visibility(track: TrackAnimation, total: int, dur: str) -> str:
    times, values = [0.0], ["hidden"]
    for first, last in track.spans:
        start = max(first - SWITCH_EARLY, 0.0)
        if start == 0.0:
            values[0] = "visible"
        else:
            times.append(start)
            values.append("visible")
        if last + 1 < total:
            times.append(last + 1 - SWITCH_EARLY)
            values.append("hidden")
    key_times = ";".join(f"{t / total:.7g}" for t in times)
    return (
        f'<animate attributeName="visibility" dur="{dur}" repeatCount="indefinite" '
        f'calcMode="discrete" keyTimes="{key_times}" values="{";".join(values)}"/>'
    )


def track_element(track: TrackAnimation, total: int, dur: str, tolerance: float) -> str:
    """The ``<path>`` of one track with its animations."""
    keys = reduce_keys(track.frames, track.absolute(), tolerance)
    width_keys = reduce_keys(
        track.frames, track.widths[:, None, None], tolerance * WIDTH_TOLERANCE_SHARE
    )
    paths = bezier_paths_data(chains(track, keys), track.closed)
    widths = [f"{w:.2f}".rstrip("0").rstrip(".") for w in track.widths[width_keys]]
    first_visible = track.frames[0] == 0
    body = ""
    if len(keys) > 1:
        body += _keyed("d", track.frames[keys], paths, total, dur)
    if len(width_keys) > 1:
        body += _keyed("stroke-width", track.frames[width_keys], widths, total, dur)
    if not (first_visible and len(track.spans) == 1 and track.frames[-1] == total - 1):
        body += _visibility(track, total, dur)
    return (
        f'<path data-stroke-id="{track.track_id}" d="{paths[0]}" stroke-width="{widths[0]}"'
        + ("" if first_visible else ' visibility="hidden"')
        + f">{body}</path>"
    )


def svg_chunks(shot: Shot, tolerance: float = DEFAULT_TOLERANCE) -> Iterator[bytes]:
    """The animated SVG of ``shot`` in UTF-8 chunks (one per layer); see the module
    docstring. An empty shot is an SVG with no paths."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 px, got {tolerance}")
    total = max(len(shot.frames), 1)
    dur = f"{total / shot.fps:.6g}s"
    tracks = track_animations(shot)
    w, h = shot.width, shot.height
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" data-frames="{total}" data-fps="{shot.fps:g}">'
    )
    if shot.background:
        head += f'<rect width="100%" height="100%" fill={quoteattr(shot.background)}/>'
    yield (
        head + '<g transform="translate(0.5 0.5)" fill="none" '
        'stroke-linecap="round" stroke-linejoin="round">'
    ).encode()
    for name in shot.layers:
        elements = [track_element(t, total, dur, tolerance) for t in tracks if t.layer == name]
        yield (
            f"<g id={quoteattr('layer-' + name)} data-layer={quoteattr(name)} "
            f"stroke={quoteattr(shot.line_color(name))}>" + "".join(elements) + "</g>"
        ).encode()
    yield b"</g></svg>\n"
