"""Geometry edits of one stroke (use case 3): bend it, move it, change its pressure, replace
its control points, or draw a new one.

Malformed edits raise :class:`ValueError` with a one-line message; the service answers them
with 400.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from talos.axis.geometry.bezier import knot_curvature, mean_abs_curvature
from talos.axis.strokes import Stroke


class StrokeChange(Protocol):
    """What to change in a stroke; any field may be None (applied in this order)."""

    control_points: list[list[float]] | None
    delta_curvature: float | None
    pressure: list[float] | None
    delta_pressure: float | None
    translate: list[float] | None


class StrokeSpec(Protocol):
    """A new stroke: its Bézier chain, pressure per knot (None: 1) and style."""

    control_points: list[list[float]]
    pressure: list[float] | None
    closed: bool
    layer: str
    style_class: str
    width: float


def _control_points(value: list[list[float]]) -> np.ndarray:
    cp = np.asarray(value, dtype=np.float64)
    if cp.ndim != 2 or cp.shape[1] != 2 or cp.shape[0] < 4 or (cp.shape[0] - 1) % 3:
        raise ValueError(f"control_points must be (3n+1) x 2 with n >= 1, got {cp.shape}")
    if not np.isfinite(cp).all():
        raise ValueError("control_points must be finite numbers")
    return cp


def _resample(values: np.ndarray, count: int) -> np.ndarray:
    """``values`` (per knot) linearly resampled to ``count`` knots."""
    if len(values) == count:
        return values
    resampled: np.ndarray = np.interp(
        np.linspace(0, 1, count), np.linspace(0, 1, len(values)), values
    )
    return resampled


def bend(control_points: np.ndarray, delta: float) -> np.ndarray:
    """Push each segment's inner control points along its chord normal ``(-dy, dx)`` by
    ``delta × chord length`` px (knots fixed). A straight segment of chord ``L`` gets
    ``|κ| ≈ 6·|delta| / L`` (1/px)."""
    cp = np.array(control_points, dtype=np.float64)
    p0, p3 = cp[0:-1:3], cp[3::3]
    chord = p3 - p0
    normal = np.stack([-chord[:, 1], chord[:, 0]], axis=1)  # |normal| = chord length
    cp[1::3] += delta * normal
    cp[2::3] += delta * normal
    return cp


def _with_geometry(stroke: Stroke, cp: np.ndarray, pressure: np.ndarray) -> Stroke:
    return stroke.evolve(
        control_points=cp.astype(np.float32),
        pressure=np.clip(pressure, 0.0, 1.0).astype(np.float32),
        curvature=knot_curvature(cp).astype(np.float32),
        curvature_mean=mean_abs_curvature(cp),
        points_3d=None,  # the 2D curve moved: its old 3D lift no longer describes it
    )


def apply_patch(stroke: Stroke, patch: StrokeChange) -> Stroke:
    """``stroke`` with ``patch`` applied: replaced control points (pressure resampled to the
    new knots), then bend, then pressure replaced knot by knot (one value a knot, 0..1),
    then pressure change, then translation."""
    cp = np.asarray(stroke.control_points, dtype=np.float64)
    pressure = np.asarray(stroke.pressure, dtype=np.float64)
    if patch.control_points is not None:
        cp = _control_points(patch.control_points)
        pressure = _resample(pressure, (len(cp) - 1) // 3 + 1)
    if patch.delta_curvature is not None:
        cp = bend(cp, patch.delta_curvature)
    if patch.pressure is not None:
        given = np.asarray(patch.pressure, dtype=np.float64)
        if given.shape != pressure.shape:
            raise ValueError(
                f"pressure needs {len(pressure)} values (a knot each), not {given.size}"
            )
        if not (np.isfinite(given).all() and (given >= 0).all() and (given <= 1).all()):
            raise ValueError("pressure values must be within 0..1")
        pressure = given
    if patch.delta_pressure is not None:
        pressure = pressure + patch.delta_pressure
    if patch.translate is not None:
        cp = cp + np.asarray(patch.translate, dtype=np.float64)
    return _with_geometry(stroke, cp, pressure)


def new_stroke(spec: StrokeSpec, stroke_id: int) -> Stroke:
    """The stroke ``spec`` describes, with id ``stroke_id``."""
    cp = _control_points(spec.control_points)
    knots = (len(cp) - 1) // 3 + 1
    pressure = np.ones(knots) if spec.pressure is None else np.asarray(spec.pressure, np.float64)
    if pressure.shape != (knots,):
        raise ValueError(f"pressure needs {knots} values, got {len(pressure)}")
    stroke = Stroke(
        stroke_id=stroke_id,
        control_points=cp.astype(np.float32),
        pressure=np.ones(knots, np.float32),
        closed=spec.closed,
        layer=spec.layer,
        style_class=spec.style_class,
        width=spec.width,
    )
    return _with_geometry(stroke, cp, pressure)
