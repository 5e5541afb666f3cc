"""A generated scene described and built (:mod:`talos.axis.io.scenes`): everything that does
not change from frame to frame.

:func:`build_scene` draws it from the seed: 5–8 bodies back to front (:class:`Body`: a
shape as a polar radius table, colours, motion, and its inner :class:`Part` s: eyes, colour
patches, creases and, in ``cel``, a shadow boundary), often a character (a body with a head
anchored to it), and the camera's zoom and pan (:class:`Scene`). :data:`LIGHT` is the
direction of the light that shades the bodies and casts the cel shadows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

SHAPES = ("ellipse", "blob", "rounded", "superellipse")

TABLE_SIZE = 1024  # samples of a shape's polar radius table
LIGHT = np.array([-0.5, -0.62, 0.6])
LIGHT = LIGHT / np.linalg.norm(LIGHT)


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
    table: np.ndarray  # (TABLE_SIZE,) polar radius of the unit shape, min 0.9
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


def polar_table(shape: str, rng: np.random.Generator) -> np.ndarray:
    theta = np.linspace(0.0, 2 * np.pi, TABLE_SIZE, endpoint=False)
    if shape == "ellipse":
        r = np.ones(TABLE_SIZE)
    elif shape == "superellipse":
        p = rng.uniform(2.6, 4.0)
        r = (np.abs(np.cos(theta)) ** p + np.abs(np.sin(theta)) ** p) ** (-1.0 / p)
    elif shape == "blob":
        r = np.ones(TABLE_SIZE)
        for k in (2, 3, 4):
            r += rng.uniform(0.02, 0.08) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    elif shape == "rounded":
        m = int(rng.integers(4, 7))
        sector = 2 * np.pi / m
        r = math.cos(math.pi / m) / np.cos(np.mod(theta, sector) - sector / 2)
        sigma = int(TABLE_SIZE * 0.025)
        kernel = np.exp(-0.5 * (np.arange(-3 * sigma, 3 * sigma + 1) / sigma) ** 2)
        padded = np.concatenate([r[-3 * sigma :], r, r[: 3 * sigma]])
        r = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    else:  # pragma: no cover - internal
        raise ValueError(shape)
    table: np.ndarray = r * (0.9 / r.min())
    return table


def table_outline(table: np.ndarray, n: int) -> np.ndarray:
    theta = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    grid = np.linspace(0.0, 2 * np.pi, TABLE_SIZE, endpoint=False)
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


def build_scene(kind: str, width: int, height: int, seed: int) -> Scene:
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
        table = polar_table(shape, rng)
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
            patch = table_outline(polar_table("blob", rng), _points_for(r * part_radius * 3))
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
            outline=table_outline(table, n_out),
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
            head_table = polar_table("ellipse", rng)
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
                    outline=table_outline(head_table, _points_for(size * hsize)),
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
