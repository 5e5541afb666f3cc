"""Generated clips that look like footage, with their true lines known: line extraction's yardstick.

:func:`generate_scene` writes ``OUT.mp4`` and ``OUT.gt.json`` (see
:func:`talos.axis.io.sample.ground_truth_path`). Four scenes:

``lines``
    :func:`talos.axis.io.sample.generate_sample` unchanged (drawn line shapes on paper), the
    same bytes as ``axis sample`` always wrote, GT included: that GT has no ``scene`` key
    (read a missing one as ``"lines"``).
``realistic``
    5–8 shaded objects (ellipses, blobs, rounded polygons, superellipses, often a body with a
    head) with no drawn outlines: soft directional light from the upper left, darker toward
    the rim, a weak surface texture (std 5.5 % of the brightness), and inner parts: eyes
    (sclera + pupil), colour patches, creases (thin darker fold lines). They move, turn,
    breathe and occlude each other over a defocused photograph (astronaut, coffee, chelsea,
    rocket) whose lower part fades into a sharp ground texture (grass, gravel or brick), all
    shipped with scikit-image. The camera pans and zooms over everything. Then a linear
    motion blur along the camera's motion (1.5–3 px at 720p), Gaussian sensor noise
    (σ = 2.6 levels) and x264 at crf 26.
``cel``
    The same objects and motion drawn as a cartoon: flat fills, dark ink outlines (3 px at
    720p, scaled with the frame height) around objects and inner parts, ink creases, and a
    flat shadow shape on each object's side away from the light (its boundary with the lit
    fill is a true line, without ink). Softly graded background with a strongly defocused
    photograph; noise σ = 1.2, crf 23.
``tangle``
    Drawn lines on paper that cross, leave the frame and pass under an opaque paper card
    (:mod:`talos.axis.io.tangle`): hard on identity; its truth has the format below.

Frame ``i`` shows time ``i / fps`` s, so a shorter clip is the start of a longer one with
the same arguments. Same arguments, same bytes: seeded generators everywhere, x264 on one
thread with fixed options (preset ultrafast with its deblocking filter back on: fast, and
its blocks are those of cheap real footage).

Ground truth
------------
The format of :mod:`talos.axis.io.sample` (``width, height, fps, frames, seed, lines,
frame_truth``) plus ``"scene"``. ``lines`` lists every true line once: ``id`` (stable over
the clip), ``kind`` (``silhouette``, ``eye``, ``pupil``, ``patch``, ``crease``,
``shadow``), ``width`` (drawn width in px: the ink or crease width, 0 for an edge between
two regions) and ``closed`` (of the whole line; a shadow boundary is an open arc).
``frame_truth[i]["lines"]`` gives the *visible* part of each line in frame ``i``, in px of
the output frame (pixel centres at integer coordinates), after the camera:

- a line hidden by an object in front of its own object, or leaving the frame, is cut
  there (exactly where its segment crosses the hiding outline); its visible pieces are
  separate entries **with the same id** (``closed`` false), a fully visible closed line is
  one entry with ``closed`` true, a line hidden entirely is absent that frame, and pieces
  shorter than 2 px are left out;
- the boundary between an object in front and one behind belongs to the front object's
  silhouette only;
- in ``cel``, what hides a line includes the ink around the object in front; a shadow
  boundary is only the part inside its object's ink and outside the inner parts' ink;
- all points lie in ``[0, W - 1] x [0, H - 1]``;
- texture, noise, the photograph and the ground are not true lines.

Each ``lines`` entry also has ``unit``: the line's points ``(n, 2)`` in its own unit
coordinates, the ones the scene builds it from (a body's outline for a silhouette and for a
shadow boundary, which is cut from that closed outline; a part's points for a part). Each
frame has the true motion:

- ``poses``: ``{"<id>": [a, b, tx, c, d, ty]}`` for every line of the scene, visible or not:
  the 2×3 affine map ``x_px = [[a, b], [c, d]] @ u + [tx, ty]`` from the line's unit
  coordinates to the frame's px at that frame (its body's matrix, camera included; a shadow
  boundary's is its body's, moved by its shift toward the light). The visible points of a
  line lie on ``poses`` applied to ``unit``, and ``P_j · P_i⁻¹`` moves a point of the line
  from frame ``i`` to frame ``j`` (:mod:`talos.axis.evaluation.motion`);
- ``camera``: ``[a, b, tx, c, d, ty]``, the map from world px to frame px (the background
  moves by ``C_j · C_i⁻¹``; the identity for drawn lines, which have no camera).

Floats in ``poses`` and ``unit`` keep 6 significant digits.

Every polygon drawn is the one the ground truth gives (anti-aliased fill, corrected for
OpenCV's 0.63 px growth; ink drawn centred on the line), so rendered edges lie within
~0.2 px of the truth before blur, noise and compression.

:func:`truth_map` rasterises one frame's true lines into an id map (any scene).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from talos.axis.io.sample import (
    generate_sample,
    ground_truth_path,
    pose_entry,
    significant,
)

SCENES = ("lines", "realistic", "cel", "tangle")
SHAPES = ("ellipse", "blob", "rounded", "superellipse")
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
TEXTURES = ("grass", "gravel", "brick")

_K = 1024  # samples of a shape's polar radius table
_AA_DILATION = 0.63  # px: cv2.fillPoly(LINE_AA) grows a polygon by this much on average
_SHIFT = 8  # sub-pixel bits of the polygons handed to OpenCV
_MIN_PIECE_PX = 2.0  # shorter visible pieces are left out of the ground truth
_LIGHT = np.array([-0.5, -0.62, 0.6])
_LIGHT = _LIGHT / np.linalg.norm(_LIGHT)


# ---------------------------------------------------------------- scene description


@dataclass(frozen=True)
class Part:
    """A true line carried by an object, in the object's unit coordinates.

    ``unit`` is ``(n, 2)``; ``fill`` is the BGR colour (0–1) of a filled part (eye, pupil,
    patch), None for a crease or a shadow boundary.
    """

    line_id: int
    kind: str
    unit: np.ndarray
    closed: bool
    width: float
    fill: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Body:
    """One object: its shape (polar radius table), colour, motion, and inner parts.

    Lengths are px of the un-zoomed frame, times in s, angles in rad. An anchored body
    (a head) sits at ``offset`` in its anchor's unit coordinates and turns with it.
    """

    index: int
    shape: str
    table: np.ndarray  # (_K,) polar radius of the unit shape, min 0.9
    outline: np.ndarray  # (n, 2) unit silhouette
    silhouette_id: int
    color: tuple[float, float, float]
    shadow_color: tuple[float, float, float]
    size: float
    aspect: tuple[float, float]
    center: tuple[float, float]
    amplitude: tuple[float, float]
    omega: tuple[float, float]
    phase: float
    angle0: float
    spin: float
    breathe: float
    texture: int
    anchor: int | None = None
    offset: tuple[float, float] = (0.0, 0.0)
    parts: tuple[Part, ...] = field(default=())
    shadow: Part | None = None


@dataclass(frozen=True)
class Scene:
    """Everything that does not change from frame to frame."""

    kind: str
    width: int
    height: int
    seed: int
    bodies: tuple[Body, ...]  # back to front
    camera: tuple[float, ...]  # zoom amplitude, omegas, phases, pan amplitudes
    ink: float  # ink width in px (cel)
    crease: float  # crease width in px (realistic)


def _polar_table(shape: str, rng: np.random.Generator) -> np.ndarray:
    theta = np.linspace(0.0, 2 * np.pi, _K, endpoint=False)
    if shape == "ellipse":
        r = np.ones(_K)
    elif shape == "superellipse":
        p = rng.uniform(2.6, 4.0)
        r = (np.abs(np.cos(theta)) ** p + np.abs(np.sin(theta)) ** p) ** (-1.0 / p)
    elif shape == "blob":
        r = np.ones(_K)
        for k in (2, 3, 4):
            r += rng.uniform(0.02, 0.08) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    elif shape == "rounded":
        m = int(rng.integers(4, 7))
        sector = 2 * np.pi / m
        r = math.cos(math.pi / m) / np.cos(np.mod(theta, sector) - sector / 2)
        sigma = int(_K * 0.025)
        kernel = np.exp(-0.5 * (np.arange(-3 * sigma, 3 * sigma + 1) / sigma) ** 2)
        padded = np.concatenate([r[-3 * sigma :], r, r[: 3 * sigma]])
        r = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    else:  # pragma: no cover - internal
        raise ValueError(shape)
    table: np.ndarray = r * (0.9 / r.min())
    return table


def _table_outline(table: np.ndarray, n: int) -> np.ndarray:
    theta = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    grid = np.linspace(0.0, 2 * np.pi, _K, endpoint=False)
    r = np.interp(theta, grid, table, period=2 * np.pi)
    return np.stack([r * np.cos(theta), r * np.sin(theta)], 1)


def _ellipse(center: tuple[float, float], radii: tuple[float, float], n: int) -> np.ndarray:
    a = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return np.stack([center[0] + radii[0] * np.cos(a), center[1] + radii[1] * np.sin(a)], 1)


def _points_for(radius_px: float, lo: int = 16, hi: int = 400) -> int:
    """Vertices of a closed outline of radius ``radius_px``: about one every 4 px."""
    return int(np.clip(2 * np.pi * radius_px / 4.0, lo, hi))


def _jitter(color: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    return np.clip(color + rng.uniform(-amount, amount, 3), 0.05, 0.95)


def _build_scene(kind: str, width: int, height: int, seed: int) -> Scene:
    rng = np.random.default_rng([seed, 12])
    scale = height / 720.0
    short = min(width, height)
    n_bodies = int(rng.integers(5, 9))
    bodies: list[Body] = []
    next_id = 0

    def new_id() -> int:
        nonlocal next_id
        next_id += 1
        return next_id - 1

    palette = rng.permutation(
        np.array(
            [
                [0.25, 0.45, 0.85],  # BGR: orange
                [0.75, 0.45, 0.2],  # blue
                [0.3, 0.7, 0.35],  # green
                [0.6, 0.3, 0.7],  # purple
                [0.2, 0.75, 0.85],  # yellow
                [0.55, 0.55, 0.25],  # teal
                [0.35, 0.3, 0.8],  # red
                [0.8, 0.75, 0.7],  # pale grey-blue
            ]
        )
    )
    has_character = n_bodies >= 6 or rng.uniform() < 0.7
    i = 0
    while len(bodies) < n_bodies:
        character = has_character and i == 1  # body + head, mid-depth
        shape = "ellipse" if character else SHAPES[int(rng.integers(len(SHAPES)))]
        table = _polar_table(shape, rng)
        size = short * rng.uniform(0.1, 0.17) * (1.25 if character else 1.0)
        aspect = (rng.uniform(0.7, 0.85), 1.0) if character else (rng.uniform(0.65, 1.0), 1.0)
        color = _jitter(palette[len(bodies) % len(palette)], rng, 0.08)
        n_out = _points_for(size * 1.3)
        parts: list[Part] = []
        sil_id = new_id()
        part_radius = size * 0.3
        wants_eyes = not character and rng.uniform() < 0.4
        wants_patch = character or rng.uniform() < 0.6
        wants_crease = character or rng.uniform() < 0.6 or not (wants_eyes or wants_patch)
        if wants_eyes:
            parts += _eyes(rng, new_id, part_radius)
        if wants_patch:
            c = (rng.uniform(-0.15, 0.1), rng.uniform(0.3, 0.42))
            r = rng.uniform(0.2, 0.26)
            patch = _table_outline(_polar_table("blob", rng), _points_for(r * part_radius * 3))
            patch = patch * r / 0.9 * np.array([1.2, 0.85]) + np.array(c)
            pc = _jitter(np.array(color)[::-1] * 0.6 + 0.3, rng, 0.1)
            parts.append(Part(new_id(), "patch", patch, True, 0.0, tuple(pc)))
        if wants_crease:
            a0 = rng.uniform(-0.45, 0.0)
            a = np.linspace(a0, a0 + rng.uniform(0.7, 1.0), _points_for(size * 0.2, 8, 60))
            rad = 0.64 + 0.05 * np.sin(np.linspace(0, np.pi, len(a)))
            crease = np.stack([rad * np.cos(a), rad * np.sin(a)], 1)
            if rng.uniform() < 0.5:
                crease[:, 0] *= -1
            parts.append(Part(new_id(), "crease", crease, False, 0.0))
        shadow = Part(new_id(), "shadow", table.copy(), True, 0.0) if kind == "cel" else None
        motion_amp = (width * rng.uniform(0.08, 0.2), height * rng.uniform(0.06, 0.16))
        body = Body(
            index=len(bodies),
            shape=shape,
            table=table,
            outline=_table_outline(table, n_out),
            silhouette_id=sil_id,
            color=tuple(color),
            shadow_color=tuple(np.array(color) * 0.62),
            size=size,
            aspect=aspect,
            center=_place(
                rng, bodies, size, width, height, (0.55, 0.75) if character else (0.22, 0.78)
            ),
            amplitude=motion_amp,
            omega=(rng.uniform(0.5, 1.2), rng.uniform(0.4, 1.0)),
            phase=float(rng.uniform(0, 2 * np.pi)),
            angle0=float(rng.uniform(-0.5, 0.5)),
            spin=float(rng.uniform(-0.6, 0.6)),
            breathe=float(rng.uniform(0.04, 0.12)),
            texture=int(rng.integers(3)),
            parts=tuple(parts),
            shadow=shadow,
        )
        bodies.append(body)
        if character:
            head_table = _polar_table("ellipse", rng)
            hsize = 0.58
            hcolor = _jitter(palette[len(bodies) % len(palette)], rng, 0.08)
            head_parts = _eyes(rng, new_id, size * hsize * 0.3, wide=True)
            head_sil = new_id()
            head_shadow = (
                Part(new_id(), "shadow", head_table.copy(), True, 0.0) if kind == "cel" else None
            )
            bodies.append(
                Body(
                    index=len(bodies),
                    shape="ellipse",
                    table=head_table,
                    outline=_table_outline(head_table, _points_for(size * hsize)),
                    silhouette_id=head_sil,
                    color=tuple(hcolor),
                    shadow_color=tuple(np.array(hcolor) * 0.62),
                    size=hsize,  # relative to the anchor
                    aspect=(1.0, 0.92),
                    center=(0.0, 0.0),
                    amplitude=(0.0, 0.0),
                    omega=(1.7, 0.0),
                    phase=float(rng.uniform(0, 2 * np.pi)),
                    angle0=0.0,
                    spin=0.25,  # head wobble amplitude
                    breathe=0.0,
                    texture=int(rng.integers(3)),
                    anchor=body.index,
                    offset=(0.0, -1.32),
                    parts=tuple(head_parts),
                    shadow=head_shadow,
                )
            )
        i += 1
    cam = (
        rng.uniform(0.05, 0.1),  # zoom amplitude
        rng.uniform(0.3, 0.6),
        rng.uniform(0, 2 * np.pi),  # zoom omega, phase
        width * rng.uniform(0.025, 0.04),
        height * rng.uniform(0.015, 0.03),  # pan amplitudes
        rng.uniform(0.4, 0.8),
        rng.uniform(0.3, 0.6),  # pan omegas
        rng.uniform(0, 2 * np.pi),
        rng.uniform(0, 2 * np.pi),  # pan phases
    )
    return Scene(
        kind=kind,
        width=width,
        height=height,
        seed=seed,
        bodies=tuple(bodies),
        camera=tuple(float(c) for c in cam),
        ink=float(max(1.0, round(3.0 * scale))),
        crease=float(max(1.0, round(1.6 * scale))),
    )


def _place(
    rng: np.random.Generator,
    bodies: list[Body],
    size: float,
    width: int,
    height: int,
    rows: tuple[float, float],
) -> tuple[float, float]:
    """A centre (px) for a new body, its height in ``rows`` (shares of the frame height):
    overlapping the others in part, not hiding behind them."""
    best, best_gap = (width / 2, height / 2), -np.inf
    for _ in range(20):
        c = (width * rng.uniform(0.15, 0.85), height * rng.uniform(*rows))
        gaps = [math.dist(c, b.center) / (size + b.size) for b in bodies if b.anchor is None]
        gap = min(gaps, default=np.inf)
        if gap >= 0.85:
            return c
        if gap > best_gap:
            best, best_gap = c, gap
    return best


def _eyes(
    rng: np.random.Generator, new_id: Callable[[], int], radius_px: float, wide: bool = False
) -> list[Part]:
    """Two eyes (sclera + pupil each), ``wide`` for a head. Unit coordinates, inside 0.75."""
    parts = []
    dx = rng.uniform(0.3, 0.36) if wide else rng.uniform(0.26, 0.32)
    y = rng.uniform(-0.2, -0.05)
    rx, ry = (0.2, 0.24) if wide else (0.15, 0.19)
    gaze = (rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05))
    n = _points_for(radius_px * 0.8, 12, 80)
    sclera = (0.93, 0.94, 0.95)
    pupil = (0.12, 0.1, 0.1)
    for sx in (-1, 1):
        c = (sx * dx, y)
        parts.append(Part(new_id(), "eye", _ellipse(c, (rx, ry), n), True, 0.0, sclera))
        pc = (c[0] + gaze[0], c[1] + gaze[1])
        parts.append(Part(new_id(), "pupil", _ellipse(pc, (0.4 * rx,) * 2, n), True, 0.0, pupil))
    return parts


# ---------------------------------------------------------------- motion


def _next(a: np.ndarray) -> np.ndarray:
    """``np.roll(a, -1, axis=0)``, faster: each vertex's successor on a closed polygon."""
    return np.concatenate((a[1:], a[:1]))


def _prev(a: np.ndarray) -> np.ndarray:
    """``np.roll(a, 1, axis=0)``, faster: each vertex's predecessor on a closed polygon."""
    return np.concatenate((a[-1:], a[:-1]))


def _rot(a: float) -> np.ndarray:
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def _pose(scene: Scene, body: Body, t: float) -> tuple[np.ndarray, float, float]:
    """World ``center`` (2,), ``angle`` rad and ``scale`` px of ``body`` at ``t`` s."""
    if body.anchor is not None:
        c, angle, scale = _pose(scene, scene.bodies[body.anchor], t)
        parent = scene.bodies[body.anchor]
        local = np.array(body.offset) * np.array(parent.aspect)
        center = c + _rot(angle) @ local * scale
        wobble = body.spin * math.sin(body.omega[0] * t + body.phase)
        return center, angle + wobble, scale * body.size
    center = np.array(body.center) + np.array(body.amplitude) * np.array(
        [
            math.sin(body.omega[0] * t + body.phase),
            math.sin(body.omega[1] * t + 1.7 * body.phase),
        ]
    )
    angle = body.angle0 + body.spin * t
    scale = body.size * (1.0 + body.breathe * math.sin(1.1 * t + body.phase))
    return center, angle, scale


def _camera(scene: Scene, t: float) -> np.ndarray:
    """The ``(3, 3)`` map from world px to frame px at ``t`` s: zoom about the centre, pan."""
    za, zw, zp, px, py, pwx, pwy, ppx, ppy = scene.camera
    zoom = 1.0 + za * (0.5 + 0.5 * math.sin(zw * t + zp))
    pan = np.array([px * math.sin(pwx * t + ppx), py * math.sin(pwy * t + ppy)])
    c = np.array([scene.width / 2, scene.height / 2])
    m = np.eye(3)
    m[:2, :2] *= zoom
    m[:2, 2] = c - zoom * (c + pan)
    return m


def _body_matrix(scene: Scene, body: Body, t: float, cam: np.ndarray) -> np.ndarray:
    """The ``(3, 3)`` map from ``body``'s unit coordinates to frame px at ``t`` s."""
    center, angle, scale = _pose(scene, body, t)
    m = np.eye(3)
    m[:2, :2] = _rot(angle) @ np.diag(np.array(body.aspect) * scale)
    m[:2, 2] = center
    return cam @ m


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    moved: np.ndarray = pts @ m[:2, :2].T + m[:2, 2]
    return moved


# ---------------------------------------------------------------- geometry of the truth


def _inside(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd test of ``points`` ``(n, 2)`` against the closed polygon ``poly`` ``(m, 2)``."""
    result = np.zeros(len(points), bool)
    lo, hi = poly.min(0), poly.max(0)
    near = np.all((points >= lo) & (points <= hi), axis=1)
    if not near.any():
        return result
    p = points[near]
    x, y = p[:, 0:1], p[:, 1:2]
    a, b = poly, _next(poly)
    ay, by = a[None, :, 1], b[None, :, 1]
    crosses = (ay > y) != (by > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = a[None, :, 0] + (y - ay) * (b[None, :, 0] - a[None, :, 0]) / (by - ay)
    result[near] = np.count_nonzero(crosses & (x < xi), axis=1) % 2 == 1
    return result


def _inside_fast(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """:func:`_inside`, by a raster of ``poly`` first: only points within ~1.5 px of its
    outline get the exact test. ``(n,)`` bool."""
    result = np.zeros(len(points), bool)
    lo = np.floor(poly.min(0)).astype(int) - 2
    hi = np.ceil(poly.max(0)).astype(int) + 3
    ix = np.round(points[:, 0]).astype(int) - lo[0]
    iy = np.round(points[:, 1]).astype(int) - lo[1]
    w, h = hi - lo
    near = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    if not near.any():
        return result
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round((poly - lo) * (1 << _SHIFT)).astype(np.int32)], 1, 8, _SHIFT)
    kernel = np.ones((3, 3), np.uint8)
    sure_in, maybe_in = cv2.erode(mask, kernel), cv2.dilate(mask, kernel)
    idx = np.flatnonzero(near)
    yi, xi = iy[idx], ix[idx]
    result[idx] = sure_in[yi, xi] > 0
    unsure = idx[(maybe_in[yi, xi] > 0) & (sure_in[yi, xi] == 0)]
    if len(unsure):
        result[unsure] = _inside(points[unsure], poly)
    return result


def _first_hits(a: np.ndarray, b: np.ndarray, polys: list[np.ndarray]) -> np.ndarray:
    """Where segments ``a -> b`` (``(k, 2)`` each) first cross an edge of ``polys``: ``(k,)``.

    The parameter ``s`` in 0–1 of the first crossing along each segment, ``inf`` if none.
    """
    best = np.full(len(a), np.inf)
    lo, hi = np.minimum(a, b).min(0), np.maximum(a, b).max(0)
    d = b - a
    for poly in polys:
        e0, e1 = poly, _next(poly)
        keep = np.all((np.maximum(e0, e1) >= lo) & (np.minimum(e0, e1) <= hi), axis=1)
        if not keep.any():
            continue
        e0, e = e0[keep], (e1 - e0)[keep]
        denom = d[:, None, 0] * e[None, :, 1] - d[:, None, 1] * e[None, :, 0]
        w = e0[None] - a[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (w[..., 0] * e[None, :, 1] - w[..., 1] * e[None, :, 0]) / denom
            u = (w[..., 0] * d[:, None, 1] - w[..., 1] * d[:, None, 0]) / denom
        ok = (denom != 0) & (s >= 0) & (s <= 1) & (u >= 0) & (u <= 1)
        best = np.minimum(best, np.where(ok, s, np.inf).min(1))
    return best


def _visible_pieces(
    points: np.ndarray,
    closed: bool,
    vis: np.ndarray,
    boundaries: list[np.ndarray],
) -> list[tuple[np.ndarray, bool]]:
    """The visible pieces of a polyline ``(n, 2)`` whose vertices are visible where ``vis``.

    Returns ``[(points (k, 2), closed)]``. A piece ends exactly where its segment first
    crosses one of ``boundaries`` (closed polygons: whatever hides the line).
    """
    n = len(points)
    if vis.all():
        return [(points, closed)]
    if not vis.any():
        return []
    if closed:  # start the walk at a hidden vertex so every run is contiguous
        start = int(np.argmin(vis))
        order = np.r_[np.arange(start, n), np.arange(0, start), start]
    else:
        order = np.arange(n)
    pts, v = points[order], vis[order]
    edges = np.flatnonzero(v[:-1] != v[1:])  # segment k: pts[k] -> pts[k + 1]
    near = np.where(v[edges, None], pts[edges], pts[edges + 1])  # visible end
    far = np.where(v[edges, None], pts[edges + 1], pts[edges])
    s = _first_hits(near, far, boundaries)
    s = np.where(np.isfinite(s), s, 0.5)
    cut = dict(zip(edges.tolist(), near + s[:, None] * (far - near), strict=True))
    pieces = []
    k, m = 0, len(pts)
    while k < m:
        if not v[k]:
            k += 1
            continue
        j = k
        while j + 1 < m and v[j + 1]:
            j += 1
        piece = [pts[k : j + 1]]
        if k - 1 in cut:
            piece.insert(0, cut[k - 1][None])
        if j in cut:
            piece.append(cut[j][None])
        arr = np.concatenate(piece)
        if len(arr) >= 2 and np.linalg.norm(np.diff(arr, axis=0), axis=1).sum() >= _MIN_PIECE_PX:
            pieces.append((arr, False))
        k = j + 1
    return pieces


def _frame_geometry(scene: Scene, t: float) -> list[dict[str, Any]]:
    """Per body, back to front: its matrix and every line's frame points at ``t`` s."""
    cam = _camera(scene, t)
    out = []
    for body in scene.bodies:
        m = _body_matrix(scene, body, t, cam)
        lines: list[tuple[Part, np.ndarray]] = [
            (
                Part(body.silhouette_id, "silhouette", body.outline, True, 0.0),
                _apply(m, body.outline),
            )
        ]
        lines += [(p, _apply(m, p.unit)) for p in body.parts]
        shadow = None
        if body.shadow is not None:
            shadow = _shadow_outline(body, m)
            lines.append((body.shadow, shadow))
        out.append({"body": body, "matrix": m, "lines": lines, "shadow": shadow})
    return out


def _shadow_shift(m: np.ndarray) -> np.ndarray:
    """The lit region's shift toward the light in unit coordinates of the body at ``m``: (2,)."""
    light_local = np.linalg.solve(m[:2, :2], _LIGHT[:2])
    return 0.3 * light_local / (np.linalg.norm(light_local) + 1e-12)


def _shadow_outline(body: Body, m: np.ndarray) -> np.ndarray:
    """The lit region's outline in frame px: the silhouette shifted toward the light."""
    return _apply(m, body.outline + _shadow_shift(m))


def _frame_poses(geometry: list[dict[str, Any]]) -> dict[str, list[float]]:
    """``{"<id>": [a, b, tx, c, d, ty]}``: every line's unit → frame px map (see the module)."""
    poses: dict[str, list[float]] = {}
    for item in geometry:
        m = item["matrix"]
        for part, _ in item["lines"]:
            pose = m
            if part.kind == "shadow":
                pose = m.copy()
                pose[:2, 2] += m[:2, :2] @ _shadow_shift(m)
            poses[str(part.line_id)] = pose_entry(pose)
    return poses


def _top_maps(scene: Scene, occluders: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Which body is on top at each pixel (``index + 1``, 0 none), eroded and dilated 3 × 3.

    Both ``(H, W)`` uint8; a point whose 3 × 3 neighbourhood agrees needs no exact test.
    """
    top = np.zeros((scene.height, scene.width), np.uint8)
    for z, poly in enumerate(occluders):
        pts = np.round(poly * (1 << _SHIFT)).astype(np.int32)
        cv2.fillPoly(top, [pts], z + 1, cv2.LINE_8, _SHIFT)
    kernel = np.ones((3, 3), np.uint8)
    return cv2.erode(top, kernel), cv2.dilate(top, kernel)


def _frame_truth(scene: Scene, geometry: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ground-truth entries of one frame (see the module): visible pieces of every line."""
    w, h = scene.width, scene.height
    # what hides a line: a body in front, with its ink (cel); a shadow boundary also ends
    # under its own body's ink and that of the parts drawn over it
    ink = scene.ink / 2 if scene.kind == "cel" else 0.0
    occluders = [_offset(g["lines"][0][1], ink) for g in geometry]
    low, high = _top_maps(scene, occluders)
    frame_rect = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)
    entries: list[dict[str, Any]] = []
    for z, item in enumerate(geometry):
        front = occluders[z + 1 :]
        lines: list[tuple[Part, np.ndarray]] = item["lines"]
        silhouette = _offset(lines[0][1], -ink)
        fills = [_offset(pts, ink) for part, pts in lines[1:] if part.fill is not None]
        allp = np.concatenate([pts for _, pts in lines])
        vis = (allp[:, 0] >= 0) & (allp[:, 0] <= w - 1) & (allp[:, 1] >= 0) & (allp[:, 1] <= h - 1)
        ix = np.clip(np.round(allp[:, 0]).astype(int), 0, w - 1)
        iy = np.clip(np.round(allp[:, 1]).astype(int), 0, h - 1)
        hidden = low[iy, ix] > z + 1  # surely under a body in front
        unsure = vis & ~hidden & (high[iy, ix] > z + 1)
        if unsure.any():
            idx = np.flatnonzero(unsure)
            for poly in front:
                hidden[idx] |= _inside(allp[idx], poly)
        vis &= ~hidden
        offset = 0
        for part, pts in lines:
            v = vis[offset : offset + len(pts)].copy()
            offset += len(pts)
            boundaries = [frame_rect, *front]
            if part.kind == "shadow":
                v &= _inside_fast(pts, silhouette)
                for poly in fills:
                    v &= ~_inside_fast(pts, poly)
                boundaries += [silhouette, *fills]
            for piece, closed in _visible_pieces(pts, part.closed, v, boundaries):
                entries.append(
                    {"id": part.line_id, "closed": closed, "points": np.round(piece, 2).tolist()}
                )
    return entries


# ---------------------------------------------------------------- rendering


def _offset(pts: np.ndarray, distance: float) -> np.ndarray:
    """The closed polygon ``pts`` ``(n, 2)`` moved ``distance`` px outward along its vertex
    normals (inward where negative); fine for the smooth outlines drawn here."""
    if distance == 0:
        return pts
    prev, nxt = _prev(pts), _next(pts)
    tangent = nxt - prev
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    area2 = np.sum(pts[:, 0] * nxt[:, 1] - nxt[:, 0] * pts[:, 1])
    return pts + distance * (normal if area2 > 0 else -normal)


def _coverage(pts: np.ndarray, origin: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Anti-aliased coverage ``(h, w)`` float32 in 0–1 of the closed polygon ``pts`` (frame px).

    OpenCV's anti-aliased fill grows polygons by ~0.63 px; the polygon is shrunk along its
    vertex normals by that much first so the 50 % level sits on the true outline.
    """
    p = _offset(pts - origin, -_AA_DILATION)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(p * (1 << _SHIFT)).astype(np.int32)], 255, cv2.LINE_AA, _SHIFT)
    return mask.astype(np.float32) * (1.0 / 255.0)


def _stroke(
    pts: np.ndarray, origin: np.ndarray, shape: tuple[int, int], width: float, closed: bool
) -> np.ndarray:
    """Anti-aliased coverage ``(h, w)`` float32 of a polyline drawn ``width`` px wide."""
    mask = np.zeros(shape, np.uint8)
    p = np.round((pts - origin) * (1 << _SHIFT)).astype(np.int32)
    cv2.polylines(mask, [p], closed, 255, max(1, round(width)), cv2.LINE_AA, _SHIFT)
    return mask.astype(np.float32) * (1.0 / 255.0)


def _load_gray(name: str) -> np.ndarray:
    from skimage import data

    image: np.ndarray = getattr(data, name)()
    if image.ndim == 3:
        image = cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)
    return image


def _load_photo(name: str) -> np.ndarray:
    from skimage import data

    image: np.ndarray = getattr(data, name)()
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR)


def _cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to cover ``width`` × ``height`` and centre-cropped."""
    h, w = image.shape[:2]
    s = max(width / w, height / h)
    big = cv2.resize(image, (math.ceil(w * s), math.ceil(h * s)), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return big[y0 : y0 + height, x0 : x0 + width]


_GROUND_TINT = {"grass": (0.35, 0.8, 0.5), "gravel": (0.75, 0.8, 0.85), "brick": (0.45, 0.55, 0.9)}


def _world_background(scene: Scene, margin: int) -> np.ndarray:
    """The background in world px, ``(H + 2 margin, W + 2 margin, 3)`` uint8 BGR."""
    rng = np.random.default_rng([scene.seed, 34])
    w, h = scene.width + 2 * margin, scene.height + 2 * margin
    scale = scene.height / 720.0
    photo: np.ndarray = _cover(_load_photo(PHOTOS[int(rng.integers(len(PHOTOS)))]), w, h)
    photo = photo.astype(np.float32)
    if scene.kind == "cel":
        photo = cv2.GaussianBlur(photo, (0, 0), 14 * scale)
        yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        top, bottom = rng.uniform(0.55, 0.85, 3) * 255, rng.uniform(0.4, 0.7, 3) * 255
        grad = top * (1 - yy) + bottom * yy
        return np.clip(0.6 * grad + 0.4 * photo, 0, 255).astype(np.uint8)
    photo = cv2.GaussianBlur(photo, (0, 0), 6 * scale) * 0.9
    name = TEXTURES[int(rng.integers(len(TEXTURES)))]
    tex = _load_gray(name).astype(np.float32)
    horizon = rng.uniform(0.55, 0.7) * h
    ramp = 0.12 * h
    if name == "brick":  # a photographed wall: one copy across the ground, not tiled
        band = int(h - horizon + ramp)
        ground: np.ndarray = np.zeros((h, w), np.float32)
        ground[h - band :] = _cover(tex, w, band)
        ground[: h - band] = ground[h - band]
    else:  # mirrored tiles: the textures do not wrap, and a seam would be a straight edge
        tex_scale = scale * rng.uniform(0.6, 0.9)
        tile = cv2.resize(tex, None, fx=tex_scale, fy=tex_scale, interpolation=cv2.INTER_AREA)
        tile = np.block([[tile, tile[:, ::-1]], [tile[::-1], tile[::-1, ::-1]]])
        reps = (h // tile.shape[0] + 1, w // tile.shape[1] + 1)
        ground = np.tile(tile, reps)[:h, :w]
    ground = 60 + 0.75 * (ground - ground.mean()) + 0.35 * ground.mean()
    ground = ground[..., None] * np.array(_GROUND_TINT[name], np.float32)[None, None] * 1.25
    yy = np.arange(h, dtype=np.float32)[:, None, None]
    mix = np.clip((yy - horizon) / ramp + 0.5, 0, 1)
    mix = mix * mix * (3 - 2 * mix)
    background: np.ndarray = np.clip(photo * (1 - mix) + ground * mix, 0, 255).astype(np.uint8)
    return background


def _surface_textures(size: int = 256) -> list[np.ndarray]:
    """Zero-mean, unit-std surface textures ``(size, size)`` float32 (moon, gravel, grass)."""
    out = []
    for name in ("moon", "gravel", "grass"):
        g: np.ndarray = cv2.resize(_load_gray(name), (size, size), interpolation=cv2.INTER_AREA)
        g = g.astype(np.float32)
        g -= cv2.GaussianBlur(g, (0, 0), size / 16)
        g = cv2.GaussianBlur(g, (0, 0), 0.8)
        out.append(g / (g.std() + 1e-6))
    return out


def _roi(
    polys: list[np.ndarray],
    pad: float,
    width: int,
    height: int,
    start: tuple[int, int] = (0, 0),
) -> tuple[int, int, int, int] | None:
    """The pixel box ``(x0, y0, x1, y1)`` around ``polys`` plus ``pad`` px, clipped to
    ``start`` – ``(width, height)``; None where nothing of it is left."""
    allp = np.concatenate(polys)
    x0, y0 = np.floor(allp.min(0) - pad).astype(int)
    x1, y1 = np.ceil(allp.max(0) + pad).astype(int) + 1
    x0, y0 = max(int(x0), start[0]), max(int(y0), start[1])
    x1, y1 = min(int(x1), width), min(int(y1), height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _shading(
    body: Body, m: np.ndarray, origin: np.ndarray, shape: tuple[int, int], step: int
) -> np.ndarray:
    """Soft directional light on ``body``, ``(h, w)`` float32 around 0.3–1.2.

    Computed every ``step`` px and interpolated: a dome-like normal from the polar radius
    ``rho`` (0 at the centre, 1 on the outline), lambert + a small highlight, darker toward
    the rim.
    """
    h, w = shape
    hs, ws = -(-h // step), -(-w // step)
    inv = np.linalg.inv(m)
    xs = origin[0] + np.arange(ws, dtype=np.float32) * step + (step - 1) / 2
    ys = origin[1] + np.arange(hs, dtype=np.float32) * step + (step - 1) / 2
    x, y = np.meshgrid(xs, ys)
    u = inv[0, 0] * x + inv[0, 1] * y + inv[0, 2]
    v = inv[1, 0] * x + inv[1, 1] * y + inv[1, 2]
    theta = np.arctan2(v, u)
    idx = ((theta + np.pi) * (_K / (2 * np.pi))).astype(np.int32) % _K
    table = np.roll(body.table, -_K // 2).astype(np.float32)  # index 0 at theta = -pi
    rho = np.sqrt(u * u + v * v) / table[idx]
    rho = np.minimum(rho, 1.05)
    dx, dy = x - m[0, 2], y - m[1, 2]
    norm = np.sqrt(dx * dx + dy * dy) + 1e-6
    nx, ny = 0.78 * rho * dx / norm, 0.78 * rho * dy / norm
    nz = np.sqrt(np.maximum(1.0 - nx * nx - ny * ny, 0.0))
    lam = np.maximum(nx * _LIGHT[0] + ny * _LIGHT[1] + nz * _LIGHT[2], 0.0)
    half = _LIGHT + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    spec = np.maximum(nx * half[0] + ny * half[1] + nz * half[2], 0.0) ** 24
    shade = (0.32 + 0.78 * lam + 0.3 * spec) * (1.0 - 0.12 * rho**4)
    big = cv2.resize(
        shade.astype(np.float32), (ws * step, hs * step), interpolation=cv2.INTER_LINEAR
    )
    cropped: np.ndarray = big[:h, :w]
    return cropped


def _render_body(
    frame: np.ndarray,
    scene: Scene,
    item: dict[str, Any],
    textures: list[np.ndarray],
) -> None:
    """Composite one body (and its parts) over ``frame`` ``(H, W, 3)`` uint8, in place."""
    body: Body = item["body"]
    m = item["matrix"]
    lines: list[tuple[Part, np.ndarray]] = item["lines"]
    silhouette = lines[0][1]
    cel = scene.kind == "cel"
    pad = scene.ink + 2 if cel else 2
    box = _roi([silhouette], pad, scene.width, scene.height)
    if box is None:
        return
    x0, y0, x1, y1 = box
    origin = np.array([x0, y0], np.float64)
    shape = (y1 - y0, x1 - x0)
    alpha = _coverage(silhouette, origin, shape)
    base = np.array(body.color, np.float64) * 255
    if cel:
        lit = _coverage(item["shadow"], origin, shape)
        shadow = np.array(body.shadow_color, np.float64) * 255
        color = _tint(lit, base - shadow, shadow)
        light = None
    else:
        shade = _shading(body, m, origin, shape, max(4, round(4 * scene.height / 720)))
        tex_m = np.array([[256 / 3.0, 0, 128], [0, 256 / 3.0, 128], [0, 0, 1]]) @ np.linalg.inv(m)
        tex_m = tex_m @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
        light_map: np.ndarray = cv2.warpAffine(
            textures[body.texture],
            tex_m[:2],
            (shape[1], shape[0]),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_WRAP,
        )
        light_map *= 0.055
        light_map += 1.0
        light_map *= shade
        light = light_map
        color = _tint(light, base)
    ink = np.zeros(shape, np.float32) if cel else None
    for part, pts in lines:
        if part.kind in ("shadow", "silhouette") and not (cel and part.kind == "silhouette"):
            continue
        sub = _roi([pts], scene.ink + 2 if cel else 2, shape[1] + x0, shape[0] + y0, (x0, y0))
        if sub is None:
            continue
        sx0, sy0, sx1, sy1 = sub
        where = np.s_[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
        sorigin, sshape = np.array([sx0, sy0], np.float64), (sy1 - sy0, sx1 - sx0)
        if part.fill is not None:
            a = _coverage(pts, sorigin, sshape)
            fill = np.array(part.fill, np.float64) * 255
            if light is None:
                fill_img = np.empty((*sshape, 3), np.uint8)
                fill_img[:] = np.round(fill).astype(np.uint8)
            elif part.kind == "eye":
                fill_img = _tint(light[where], 0.45 * fill, 0.55 * fill)
            else:
                fill_img = _tint(light[where], fill)
            color[where] = cv2.blendLinear(color[where], fill_img, 1.0 - a, a)
        elif part.kind == "crease" and not cel:
            a = _stroke(pts, sorigin, sshape, scene.crease, False) * 0.5
            black = np.zeros((*sshape, 3), np.uint8)
            color[where] = cv2.blendLinear(color[where], black, 1.0 - a, a)
        if ink is not None:
            stroke = _stroke(pts, sorigin, sshape, scene.ink, part.closed)
            np.maximum(ink[where], stroke, out=ink[where])
    if ink is not None:
        dark = np.full((*shape, 3), 28, np.uint8)
        color = cv2.blendLinear(color, dark, 1.0 - ink, ink)
        alpha = np.maximum(alpha, ink)
    roi = frame[y0:y1, x0:x1]
    frame[y0:y1, x0:x1] = cv2.blendLinear(roi, color, 1.0 - alpha, alpha)


def _tint(weight: np.ndarray, scale: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """``weight * scale + offset`` per channel: ``(h, w)`` float32 → ``(h, w, 3)`` uint8."""
    offset = np.zeros(3) if offset is None else offset
    return cv2.merge(
        [
            cv2.convertScaleAbs(weight, alpha=float(scale[c]), beta=float(offset[c]))
            for c in range(3)
        ]
    )


def _blur_kernel(direction: np.ndarray, length: float) -> np.ndarray:
    """A normalised linear motion-blur kernel ``length`` px long along ``direction``."""
    size = 2 * math.ceil(length / 2) + 1
    k = np.zeros((size * 8, size * 8), np.uint8)
    d = direction / (np.linalg.norm(direction) + 1e-12) * length / 2 * 8
    c = np.array([size * 4 - 0.5, size * 4 - 0.5])
    a, b = np.round((c - d) * 16).astype(int), np.round((c + d) * 16).astype(int)
    cv2.line(k, tuple(a), tuple(b), 255, 8, cv2.LINE_AA, 4)
    kernel = cv2.resize(k, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    normalised: np.ndarray = kernel / kernel.sum()
    return normalised


class _Noise:
    """Gaussian sensor noise: two precomputed fields, a seeded window of one per frame."""

    def __init__(self, scene: Scene, sigma: float) -> None:
        rng = np.random.default_rng([scene.seed, 56])
        self.pad = 16
        shape = (scene.height + self.pad, scene.width + self.pad, 3)
        self.fields = []
        for _ in range(2):
            n = np.round(rng.standard_normal(shape, dtype=np.float32) * sigma)
            self.fields.append(
                (np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8))
            )
        self.h, self.w = scene.height, scene.width
        self.seed = scene.seed

    def apply(self, frame: np.ndarray, index: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 78, index])
        k, dy, dx = int(rng.integers(2)), *rng.integers(0, self.pad, 2)
        pos, neg = self.fields[k]
        window = np.s_[dy : dy + self.h, dx : dx + self.w]
        return cv2.subtract(cv2.add(frame, pos[window]), neg[window])


class _Renderer:
    """Renders frame ``i`` of ``scene`` on demand: ``(H, W, 3)`` uint8 BGR and its truth.

    Frames are independent of each other (a function of ``i`` and the scene), so they can
    be rendered ahead, in another thread, while the encoder works.
    """

    def __init__(self, scene: Scene, fps: int) -> None:
        self.scene, self.fps = scene, fps
        self.margin = math.ceil(0.05 * max(scene.width, scene.height)) + 2
        self.world = _world_background(scene, self.margin)
        self.textures = _surface_textures()
        self.noise = _Noise(scene, 2.6 if scene.kind == "realistic" else 1.2)

    def __call__(self, i: int) -> tuple[np.ndarray, dict[str, Any]]:
        scene, t = self.scene, i / self.fps
        cam = _camera(scene, t)
        shift = np.array([[1, 0, self.margin], [0, 1, self.margin], [0, 0, 1]], np.float64)
        frame = cv2.warpAffine(
            self.world,
            (cam @ np.linalg.inv(shift))[:2],
            (scene.width, scene.height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        geometry = _frame_geometry(scene, t)
        for item in geometry:
            _render_body(frame, scene, item, self.textures)
        if scene.kind == "realistic":
            frame = cv2.filter2D(frame, -1, self._blur(t))
        frame = self.noise.apply(frame, i)
        truth = {
            "lines": _frame_truth(scene, geometry),
            "poses": _frame_poses(geometry),
            "camera": pose_entry(cam),
        }
        return frame, truth

    def _blur(self, t: float) -> np.ndarray:
        """The camera's motion over half a frame's shutter, 1.5–3 px long (at 720p)."""
        scale = self.scene.height / 720.0
        dt = 0.5 / self.fps
        centre = np.array([self.scene.width / 2, self.scene.height / 2, 1.0])
        v = (_camera(self.scene, t + dt / 2) - _camera(self.scene, t - dt / 2)) @ centre
        speed = float(np.linalg.norm(v[:2]))
        direction = v[:2] if speed > 1e-6 else np.array([1.0, 0.0])
        return _blur_kernel(direction, float(np.clip(speed, 1.5 * scale, 3.0 * scale)))


def generate_scene(
    out_path: str | Path,
    scene: str = "realistic",
    width: int = 1280,
    height: int = 720,
    frames: int = 48,
    seed: int = 0,
    fps: int = 24,
) -> Path:
    """Write the clip of ``scene`` (one of :data:`SCENES`) to ``out_path``; return the GT path.

    Parameters
    ----------
    out_path : path of the MP4 to write; the ground truth goes beside it
        (``clip.mp4`` → ``clip.gt.json``).
    scene : ``"lines"``, ``"realistic"``, ``"cel"`` or ``"tangle"`` (see the module).
    width, height : frame size in px, even, at least 64 × 48 (``lines``: 16 × 16).
    frames : number of frames, at least 1. Frame ``i`` shows time ``i / fps`` s, so a
        shorter clip is the start of a longer one with the same arguments.
    seed : the scene (objects, motion, background, noise); same arguments, same bytes.
    fps : frame rate, at least 1.

    Returns
    -------
    Path of the ground truth JSON (format: see the module).

    Raises
    ------
    ValueError : an unknown scene, a bad size, frame count or rate.
    """
    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r}; choose one of {', '.join(SCENES)}")
    if frames < 1:
        raise ValueError("frames must be at least 1")
    if fps < 1:
        raise ValueError("fps must be at least 1")
    if scene == "lines":
        return generate_sample(out_path, width, height, frames, seed, fps)
    if width < 64 or height < 48 or width % 2 or height % 2:
        raise ValueError("width and height must be even and at least 64 x 48")
    if scene == "tangle":
        from talos.axis.io.tangle import generate_tangle  # it builds on this module

        return generate_tangle(out_path, width, height, frames, seed, fps)
    spec = _build_scene(scene, width, height, seed)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines_meta: list[dict[str, Any]] = []
    for body in spec.bodies:
        edge_width = spec.ink if scene == "cel" else 0.0
        outline = significant(body.outline)
        lines_meta.append(
            {"id": body.silhouette_id, "kind": "silhouette", "width": edge_width, "closed": True}
            | {"unit": outline}
        )
        for part in body.parts:
            width_px = (
                spec.ink if scene == "cel" else (spec.crease if part.kind == "crease" else 0.0)
            )
            lines_meta.append(
                {"id": part.line_id, "kind": part.kind, "width": width_px, "closed": part.closed}
                | {"unit": significant(part.unit)}
            )
        if body.shadow is not None:
            lines_meta.append(
                {"id": body.shadow.line_id, "kind": "shadow", "width": 0.0, "closed": False}
                | {"unit": outline}
            )
    lines_meta.sort(key=lambda e: e["id"])
    truth: dict[str, Any] = {
        "scene": scene,
        "width": width,
        "height": height,
        "fps": fps,
        "frames": frames,
        "seed": seed,
        "lines": lines_meta,
        "frame_truth": [],
    }
    crf = "26" if scene == "realistic" else "23"
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {
            "crf": crf,
            "preset": "ultrafast",
            "threads": "1",
            "bframes": "0",
            "x264-params": "deblock=0,0",  # ultrafast, but with the usual in-loop filter
        }
        render = _Renderer(spec, fps)
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = [pool.submit(render, i) for i in range(min(2, frames))]
            for i in range(frames):
                image, frame_truth = ahead.pop(0).result()
                if i + 2 < frames:
                    ahead.append(pool.submit(render, i + 2))
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                    container.mux(packet)
                truth["frame_truth"].append({"index": i, **frame_truth})
        for packet in stream.encode():
            container.mux(packet)
    gt_path = ground_truth_path(out)
    gt_path.write_text(json.dumps(truth, separators=(",", ":")))
    return gt_path


def truth_map(
    gt: Mapping[str, Any], index: int, shape: tuple[int, int] | None = None
) -> np.ndarray:
    """The true lines of frame ``index`` rasterised 1 px wide: ``(H, W)`` uint16.

    Parameters
    ----------
    gt : a ground truth as loaded from ``.gt.json`` (any scene, ``lines`` included: there
        the drawn lines' centrelines).
    index : frame index, ``0 <= index < gt["frames"]``.
    shape : ``(H, W)`` of the map; default the clip's size. Another size scales the points.

    Returns
    -------
    ``(H, W)`` uint16: 0 off the lines, ``id + 1`` on the pixels of line ``id`` (8-connected
    ``cv2.polylines``, no anti-aliasing; where lines cross, the later one wins).
    """
    frames = gt["frame_truth"]
    if not 0 <= index < len(frames):
        raise ValueError(f"frame index {index} outside 0..{len(frames) - 1}")
    h, w = shape if shape is not None else (int(gt["height"]), int(gt["width"]))
    sx, sy = w / float(gt["width"]), h / float(gt["height"])
    out = np.zeros((h, w), np.uint16)
    for entry in frames[index]["lines"]:
        pts = np.asarray(entry["points"], np.float64).reshape(-1, 2)
        if len(pts) == 0:
            continue
        pts = pts * np.array([sx, sy])
        p = np.round(pts * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [p], bool(entry.get("closed")), int(entry["id"]) + 1, 1, cv2.LINE_8, 4)
    return out
