from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from talos.axis.geometry import bezier

# Four-segment Bézier approximation of a circle (kappa = 0.5523).
K = 0.5522847498


def _circle(r: float, cx: float = 0.0, cy: float = 0.0) -> np.ndarray:
    pts = [
        (r, 0),
        (r, K * r),
        (K * r, r),
        (0, r),
        (-K * r, r),
        (-r, K * r),
        (-r, 0),
        (-r, -K * r),
        (-K * r, -r),
        (0, -r),
        (K * r, -r),
        (r, -K * r),
        (r, 0),
    ]
    return np.array(pts) + [cx, cy]


@settings(max_examples=30, deadline=None)
@given(st.floats(2.0, 500.0))
def test_circle_curvature_is_one_over_r(r: float):
    cp = _circle(r)
    # a 4-segment cubic circle bends 2.2% less at its knots than a true circle
    np.testing.assert_allclose(np.abs(bezier.knot_curvature(cp)), 1 / r, rtol=0.025)
    assert abs(bezier.mean_abs_curvature(cp) - 1 / r) < 2e-3 / r


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=4, max_size=4))
def test_straight_line_has_zero_curvature(coords):
    a, b = np.array(coords[:2]), np.array(coords[2:])
    if np.linalg.norm(b - a) < 1e-3:
        b = a + 1.0
    cp = np.array([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b])
    assert np.allclose(bezier.knot_curvature(cp), 0.0, atol=1e-9)
    assert bezier.mean_abs_curvature(cp) < 1e-9
    assert abs(bezier.arc_length(cp) - np.linalg.norm(b - a)) < 1e-6


def test_sample_passes_through_knots():
    cp = _circle(10)
    pts = bezier.sample(cp, per_segment=8)
    assert pts.shape == (4 * 8 + 1, 2)
    np.testing.assert_allclose(pts[::8], cp[::3])
    assert abs(bezier.arc_length(cp, 64) - 2 * np.pi * 10) < 0.05
