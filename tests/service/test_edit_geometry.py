"""Stroke edit geometry (no server): bend, pressure, translate, replaced control points."""

from __future__ import annotations

import numpy as np
import pytest

from talos.axis.editing import apply_patch, bend, new_stroke
from talos.axis.geometry.bezier import mean_abs_curvature
from talos.axis.service.api_models import StrokeNew, StrokePatch
from talos.axis.strokes import Stroke


@pytest.mark.parametrize("delta", [0.005, 0.02, -0.02])
def test_bend_gives_the_documented_curvature(delta: float) -> None:
    chord = 80.0
    straight = np.array([[0, 0], [chord / 3, 0], [2 * chord / 3, 0], [chord, 0]], float)
    bent = bend(straight, delta)
    assert np.array_equal(bent[[0, 3]], straight[[0, 3]])  # knots stay put
    assert mean_abs_curvature(bent) == pytest.approx(6 * abs(delta) / chord, rel=0.05)


def test_patch_updates_geometry_pressure_and_drops_stale_3d() -> None:
    stroke = Stroke.from_polyline(
        np.array([[0, 0], [10, 0], [20, 5]]), stroke_id=7, points_3d=np.zeros((3, 3))
    )
    patched = apply_patch(stroke, StrokePatch(delta_pressure=-0.25, translate=[2, 3]))
    assert np.allclose(patched.control_points, stroke.control_points + [2, 3])
    assert np.allclose(patched.pressure, 0.75) and patched.points_3d is None
    assert patched.stroke_id == 7 and patched.curvature is not None
    replaced = apply_patch(stroke, StrokePatch(control_points=[[0, 0], [1, 1], [2, 1], [3, 0]]))
    assert replaced.control_points.shape == (4, 2) and replaced.pressure.shape == (2,)
    with pytest.raises(ValueError, match="control_points"):
        apply_patch(stroke, StrokePatch(control_points=[[0, 0], [1, 1], [2, 2]]))


def test_pressure_along_the_stroke_is_replaced_knot_by_knot() -> None:
    stroke = Stroke.from_polyline(np.array([[0, 0], [10, 0], [20, 5]]), stroke_id=3)
    knots = len(stroke.pressure)
    wanted = np.linspace(0.2, 0.9, knots).round(3).tolist()
    patched = apply_patch(stroke, StrokePatch(pressure=wanted))
    assert np.allclose(patched.pressure, wanted)
    assert np.allclose(patched.control_points, stroke.control_points)
    # then delta_pressure, clipped
    both = apply_patch(stroke, StrokePatch(pressure=wanted, delta_pressure=0.2))
    assert np.allclose(both.pressure, np.minimum(np.asarray(wanted) + 0.2, 1.0))
    with pytest.raises(ValueError, match=f"pressure needs {knots} values"):
        apply_patch(stroke, StrokePatch(pressure=[0.5] * (knots + 1)))
    with pytest.raises(ValueError, match="within 0..1"):
        apply_patch(stroke, StrokePatch(pressure=[1.5] * knots))


def test_new_stroke_checks_pressure_length() -> None:
    spec = StrokeNew(control_points=[[0, 0], [1, 1], [2, 1], [3, 0]], pressure=[0.5, 0.9])
    assert np.allclose(new_stroke(spec, 1_000_000).pressure, [0.5, 0.9])
    with pytest.raises(ValueError, match="pressure needs 2 values"):
        new_stroke(spec.model_copy(update={"pressure": [1.0]}), 1)
