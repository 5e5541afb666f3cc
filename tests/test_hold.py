"""Shape hold: a tracked line keeps last frame's shape, moved, while it fits its evidence."""

import numpy as np
import pytest

from talos.axis.geometry.similarity import apply_similarity, fit_similarity
from talos.axis.strokes import Stroke
from talos.axis.tracking import hold
from talos.axis.tracking.hold import FAR_FACTOR, ShapeHold

SHAPE = (240, 320)


def _flow(dx: float, dy: float) -> np.ndarray:
    flow = np.empty((*SHAPE, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def _wave(t: int, rng: np.random.Generator, speed: float, noise: float, bend: float = 0.0):
    """A wavy line moving right at ``speed`` px/frame, its knots jittered by ``noise`` px
    (a re-fit's wobble), bowed by ``bend`` px in the middle (a real change of shape)."""
    x = np.linspace(40, 200, 9)
    y = 100 + 10 * np.sin(x / 30.0) + bend * np.sin(np.pi * (x - 40) / 160)
    points = np.stack([x + speed * t, y], 1) + rng.normal(0, noise, (9, 2))
    return Stroke.from_polyline(points, 7)


def _hausdorff(a: Stroke, b: Stroke) -> float:
    from scipy.spatial.distance import cdist

    from talos.axis.tracking.batch import sample_strokes

    pa, _ = sample_strokes([a], 0.25)
    pb, _ = sample_strokes([b], 0.25)
    d = cdist(pa, pb)
    return float(max(d.min(axis=0).max(), d.min(axis=1).max()))


def test_fit_similarity_recovers_scale_rotation_and_shift_per_group():
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 100, (40, 2))
    group = np.repeat([0, 1], 20)
    a = np.array([1.05 * np.exp(0.2j), np.exp(-0.1j)])
    b = np.array([3 - 2j, -5 + 1j])
    moved = apply_similarity(points, a[group], b[group])
    fit_a, fit_b = fit_similarity(points, moved, group, 2)
    np.testing.assert_allclose(fit_a, a, atol=1e-9)
    np.testing.assert_allclose(fit_b, b, atol=1e-7)


@pytest.mark.parametrize("speed", [0.0, 6.0])
def test_a_wobbling_line_keeps_one_shape_moved_and_stays_on_its_evidence(speed):
    rng = np.random.default_rng(3)
    hold = ShapeHold(hold_px=1.0)
    outputs, inputs = [], []
    for t in range(12):
        stroke = _wave(t, rng, speed, noise=0.15)
        (out,) = hold.update([stroke], _flow(speed, 0) if t else None)
        outputs.append(out)
        inputs.append(stroke)
        assert out.stroke_id == stroke.stroke_id
        assert _hausdorff(out, stroke) <= FAR_FACTOR * 1.0 + 1e-6  # never far from it
    held = [t for t in range(1, 12) if _copy_error(outputs[t - 1], outputs[t]) < 1e-3]
    assert len(held) >= 9  # most frames are exact similarity copies of the last
    # Re-fitting wobbles; the held line does not.
    raw = np.mean([_copy_error(inputs[t - 1], inputs[t]) for t in range(1, 12)])
    kept = np.mean([_copy_error(outputs[t - 1], outputs[t]) for t in range(1, 12)])
    assert kept < 0.2 * raw


def _copy_error(a: Stroke, b: Stroke) -> float:
    """Largest distance of ``b``'s control points from the best similarity copy of ``a``'s."""
    group = np.zeros(len(a.control_points), np.int64)
    pa = a.control_points.astype(np.float64)
    pb = b.control_points.astype(np.float64)
    fa, fb = fit_similarity(pa, pb, group, 1)
    return float(np.hypot(*(apply_similarity(pa, fa[0], fb[0]) - pb).T).max())


def test_a_real_change_of_shape_is_followed_at_once():
    rng = np.random.default_rng(4)
    hold = ShapeHold(hold_px=1.0)
    hold.update([_wave(0, rng, 0.0, noise=0.0)], None)
    bent = _wave(1, rng, 0.0, noise=0.0, bend=4.0)
    (out,) = hold.update([bent], _flow(0, 0))
    np.testing.assert_array_equal(out.control_points, bent.control_points)
    assert hold.held == 0 and hold.carried == 1


def test_new_ids_and_hold_off_pass_strokes_through():
    rng = np.random.default_rng(5)
    first, second = _wave(0, rng, 0.0, 0.1), _wave(1, rng, 0.0, 0.1)
    off = ShapeHold(hold_px=0.0)
    off.update([first], None)
    assert off.update([second], None)[0] is second
    fresh = ShapeHold(hold_px=1.0)
    assert fresh.update([first], None)[0] is first
    assert fresh.carried == 0 and fresh.update([], None) == []


def _bumped(bump: float) -> Stroke:
    """A wavy line 240 px long whose middle knot stands ``bump`` px off it (a fit's noise at
    one place, or a real change of shape there)."""
    x = np.linspace(40, 280, 25)
    y = 100 + 10 * np.sin(x / 30.0)
    y[12] += bump
    return Stroke.from_polyline(np.stack([x, y], 1), 7)


@pytest.mark.parametrize(("bump", "holds"), [(1.2, True), (1.4, True), (2.0, False)])
def test_a_fits_noise_at_one_place_does_not_re_fit_the_line(bump, holds, monkeypatch):
    """Past ``hold_px`` on a few samples only (a fresh fit's error at a corner): the line
    holds. Past ``FAR_FACTOR`` times it anywhere: the line takes the new shape. With no
    outliers allowed (the symmetric Hausdorff test), the smaller bumps re-fit too."""
    held = ShapeHold(hold_px=1.0)
    held.update([_bumped(0.0)], None)
    held.update([_bumped(bump)], _flow(0, 0))
    assert held.held == int(holds)
    monkeypatch.setattr(hold, "OUTLIER_SHARE", 0.0)
    strict = ShapeHold(hold_px=1.0)
    strict.update([_bumped(0.0)], None)
    strict.update([_bumped(bump)], _flow(0, 0))
    assert strict.held == 0
