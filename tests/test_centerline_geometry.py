"""Geometry of the centerline vectorizer: fitting, curvature, thinning, graph, shapes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talos.axis.geometry.bezier import (
    arc_length,
    chain_curvatures,
    evaluate,
    knot_curvature,
    mean_abs_curvature,
    sample,
)
from talos.axis.geometry.fitting import fit_bezier, fit_beziers
from talos.axis.geometry.shapes import detect_circle, detect_triangle
from talos.axis.geometry.skeleton import fill_thin_holes, ink_distance, thin
from talos.axis.geometry.stroke_graph import trace_strokes
from talos.axis.strategies import VECTORIZERS
from talos.config import Settings

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _vectorizer(**vectorize):
    return VECTORIZERS.create("centerline", Settings(vectorize=vectorize))


def _distance_to_polyline(points: np.ndarray, polyline: np.ndarray) -> np.ndarray:
    """Distance of each point ``(n, 2)`` to the nearest segment of a polyline ``(m, 2)``."""
    a, ab = polyline[:-1], np.diff(polyline, axis=0)
    ap = points[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(2) / np.maximum((ab * ab).sum(1), 1e-12), 0, 1)
    d = ap - t[..., None] * ab[None]
    return np.hypot(d[..., 0], d[..., 1]).min(1)


@FAST
@given(
    st.lists(st.floats(-40, 40), min_size=4, max_size=4),
    st.floats(60, 200),
    st.sampled_from([0.25, 0.5, 1.0]),
)
def test_fit_recovers_a_known_cubic(jitter, span, tolerance):
    # A well-behaved cubic (no loop): handles spread along the chord, bent sideways.
    cp = np.array(
        [[0, 0], [span / 3, jitter[0]], [2 * span / 3, jitter[1]], [span, jitter[2] / 2]],
        float,
    )
    pts = evaluate(cp, np.linspace(0, 1, 400))[0]
    fitted, knots = fit_bezier(pts, tolerance)
    assert fitted.shape[0] <= 3 * 6 + 1, "a single cubic needs few segments"
    assert knots[0] == 0 and knots[-1] == len(pts) - 1
    # Within tolerance both ways (fitted → truth, truth → fitted).
    assert _distance_to_polyline(sample(fitted, 64), pts).max() <= tolerance + 0.02
    assert _distance_to_polyline(pts[::4], sample(fitted, 64)).max() <= tolerance + 0.02


@FAST
@given(st.floats(5, 300))
def test_curvature_of_a_fitted_circle_is_one_over_r(radius):
    n = max(int(2 * np.pi * radius), 32)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.column_stack([radius * np.cos(a), radius * np.sin(a)]) + 500
    cp, _ = fit_bezier(pts, 0.01 * radius, closed=True)
    assert mean_abs_curvature(cp) == pytest.approx(1 / radius, rel=0.02)
    # Knots carry the end curvature of least-squares cubics: close to 1/r, less exactly.
    assert np.abs(knot_curvature(cp)) == pytest.approx(np.full(len(cp[::3]), 1 / radius), rel=0.2)


def test_curvature_of_the_analytic_circle():
    r, k = 40.0, 4 / 3 * np.tan(np.pi / 8)
    cp = np.array([[r, 0], [r, k * r], [k * r, r], [0, r]])
    # The classic quarter-circle cubic: end curvature (2/3)(1-k)/(k² r), mean ~ 1/r.
    assert knot_curvature(cp) == pytest.approx((2 / 3) * (1 - k) / (k**2 * r), rel=1e-9)
    assert mean_abs_curvature(cp) == pytest.approx(1 / r, rel=0.01)


@FAST
@given(st.floats(0, np.pi), st.floats(20, 300), st.floats(0, 0.45))
def test_a_straight_line_has_zero_curvature(angle, length, noise_free_offset):
    t = np.linspace(0, 1, int(length))[:, None]
    direction = np.array([np.cos(angle), np.sin(angle)])
    pts = 100 + noise_free_offset + t * length * direction
    cp, _ = fit_bezier(pts, 0.5)
    assert np.abs(knot_curvature(cp)).max() < 1e-6
    assert mean_abs_curvature(cp) < 1e-6


def _band(shape: tuple[int, int], p0: np.ndarray, p1: np.ndarray, width: float) -> np.ndarray:
    """A line of exactly ``width`` px: pixels whose centre is within width/2 of segment p0p1."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    ab = p1 - p0
    t = np.clip(((xx - p0[0]) * ab[0] + (yy - p0[1]) * ab[1]) / (ab @ ab), 0, 1)
    d = np.hypot(xx - p0[0] - t * ab[0], yy - p0[1] - t * ab[1])
    return np.where(d <= width / 2, np.uint8(255), np.uint8(0))


@FAST
@given(st.integers(2, 9), st.floats(0, np.pi), st.integers(60, 200))  # 1-px bands break up
def test_thinning_a_drawn_line_gives_one_stroke_of_its_length_and_width(width, angle, length):
    c = np.array([150.0, 150.0])
    d = np.array([np.cos(angle), np.sin(angle)]) * length / 2
    p0, p1 = c - d, c + d
    canvas = _band((300, 300), p0, p1, width)
    result = _vectorizer(gap=0.0).vectorize(canvas)
    assert len(result.strokes) == 1 and not result.circles and not result.triangles
    stroke = result.strokes[0]
    # Thinning eats into the ends (extend_ends gives it back) and may hook them a little.
    assert length - 3 <= arc_length(stroke.control_points) <= length + width + 2
    drawn = stroke.width * np.asarray(stroke.pressure)
    if width >= 3:  # 1-2 px diagonal staircases have no meaningful distance-transform width
        assert np.median(drawn) == pytest.approx(width, abs=max(1.5, 0.2 * width))
    assert stroke.pressure.max() == pytest.approx(1.0) and stroke.pressure.min() > 0


def test_pressure_is_proportional_to_width_across_strokes():
    canvas = np.zeros((200, 300), np.uint8)
    widths = (2, 4, 8)
    for i, w in enumerate(widths):
        cv2.line(canvas, (30, 40 + 60 * i), (270, 40 + 60 * i), 255, w)
    # cv2.line's thickness w paints a band w + 1 px tall: measure the bands themselves
    bands = np.array([(canvas[40 + 60 * i - 8 : 40 + 60 * i + 9, 150] > 0).sum() for i in range(3)])
    strokes = sorted(_vectorizer().vectorize(canvas).strokes, key=lambda s: s.knots[0, 1])
    drawn = np.array([np.median(s.width * s.pressure) for s in strokes])
    assert len(strokes) == 3
    assert drawn == pytest.approx(bands, abs=0.6)
    assert drawn / drawn[0] == pytest.approx(bands / bands[0], rel=0.15)


def test_crossing_lines_are_two_strokes_and_spurs_and_gaps_are_cleaned():
    canvas = np.zeros((200, 200), np.uint8)
    cv2.line(canvas, (20, 100), (180, 100), 255, 3)  # X crossing
    cv2.line(canvas, (100, 20), (100, 180), 255, 3)
    cv2.line(canvas, (60, 100), (60, 96), 255, 1)  # a 4-px spur
    strokes = _vectorizer().vectorize(canvas).strokes
    assert len(strokes) == 2
    lengths = sorted(arc_length(s.control_points) for s in strokes)
    assert lengths[0] > 150

    gap = np.zeros((100, 200), np.uint8)
    cv2.rectangle(gap, (10, 49), (96, 51), 255, cv2.FILLED)
    cv2.rectangle(gap, (101, 49), (190, 51), 255, cv2.FILLED)  # a 4-px gap
    assert len(_vectorizer(gap=8.0).vectorize(gap).strokes) == 1
    assert len(_vectorizer(gap=0.0).vectorize(gap).strokes) == 2


@pytest.mark.parametrize("angle", [7.0, 12.0, 20.0, 30.0])
def test_lines_crossing_at_a_shallow_angle_each_run_straight_through(angle):
    """Lines crossing at a shallow angle share a stretch of ink (a fork, the overlap, a
    fork): each line keeps its own stroke from end to end through it, and neither bounces
    back along the other."""
    canvas = np.zeros((300, 600), np.uint8)
    centre, half = np.array([300.0, 150.0]), np.deg2rad(angle / 2)
    ends = []
    for sign in (1, -1):
        d = 260 * np.array([np.cos(sign * half), np.sin(sign * half)])
        ends.append((centre - d, centre + d))
        cv2.line(canvas, tuple((centre - d).astype(int)), tuple((centre + d).astype(int)), 255, 4)
    strokes = _vectorizer(shapes=False).vectorize(canvas).strokes
    assert len(strokes) == 2
    for stroke in strokes:
        tips = stroke.control_points[[0, -1]]
        # Both tips on the ends of one drawn line, one at each end.
        assert any(
            np.hypot(*(np.sort(tips, 0) - np.sort(np.array(e), 0)).T).max() < 8 for e in ends
        )

    # Without the ink's widths there is no telling a crossing from two thin edges that
    # run together, and the overlap goes to one line as before.
    ink = canvas > 0
    assert len(trace_strokes(thin(ink))) == 3
    assert len(trace_strokes(thin(ink), distance=ink_distance(ink))) == 2


def test_thin_edges_that_run_together_and_round_outlines_that_touch_are_not_crossings():
    """Two 1-px edges sharing 40 px of boundary (a line meeting an occluder's edge) are as
    long together as lines 1 px wide crossing at 3°: not a crossing at 20°. Two rings that
    touch would pair into an S through the contact: they keep their own curves."""
    edges = np.zeros((200, 400), np.uint8)
    cv2.polylines(edges, [np.array([[20, 60], [180, 100], [220, 100], [380, 60]])], False, 255, 1)
    cv2.polylines(edges, [np.array([[20, 140], [180, 100], [220, 100], [380, 140]])], False, 255, 1)
    ink = edges > 0
    paths = trace_strokes(thin(ink), distance=ink_distance(ink))
    assert [p.length for p in paths] == [p.length for p in trace_strokes(thin(ink))]

    rings = np.zeros((500, 700), np.uint8)
    cv2.circle(rings, (350, 190), 60, 255, 4, cv2.LINE_AA)  # a head on a body
    cv2.circle(rings, (350, 354), 100, 255, 4, cv2.LINE_AA)
    ink = rings > 100
    paths = trace_strokes(thin(ink), distance=ink_distance(ink))
    assert max(p.length for p in paths) < 2 * np.pi * 100 + 40  # no S through the contact
    assert [p.length for p in paths] == [p.length for p in trace_strokes(thin(ink))]


def test_loops_stay_closed_and_a_t_junction_keeps_its_bar_whole():
    canvas = np.zeros((200, 200), np.uint8)
    cv2.ellipse(canvas, (100, 100), (70, 40), 0, 0, 360, 255, 3)
    result = _vectorizer(shapes=False).vectorize(canvas)
    assert len(result.strokes) == 1 and result.strokes[0].closed

    tee = np.zeros((200, 200), np.uint8)
    cv2.line(tee, (20, 50), (180, 50), 255, 3)
    cv2.line(tee, (100, 50), (100, 180), 255, 3)
    strokes = _vectorizer().vectorize(tee).strokes
    assert len(strokes) == 2
    assert max(arc_length(s.control_points) for s in strokes) > 150


def test_skeleton_paths_are_one_pixel_and_ordered():
    canvas = np.zeros((120, 120), np.uint8)
    cv2.circle(canvas, (60, 60), 40, 255, 5)
    skeleton = thin(canvas)
    count = cv2.filter2D(skeleton.astype(np.uint8), -1, np.ones((3, 3), np.float32))
    assert (count[skeleton] <= 3).all()  # self + two neighbours
    paths = trace_strokes(skeleton)
    assert len(paths) == 1 and paths[0].closed
    steps = np.hypot(*np.diff(paths[0].points, axis=0).T)
    assert steps.max() <= np.sqrt(2) + 1e-9


def test_thin_holes_are_filled_and_real_holes_kept():
    canvas = np.zeros((200, 200), np.uint8)
    cv2.rectangle(canvas, (20, 20), (180, 24), 255, 1)  # a line traced as two edges
    cv2.circle(canvas, (100, 120), 50, 255, 2)  # a ring ...
    cv2.circle(canvas, (100, 120), 20, 255, 2)  # ... with a ring inside
    filled = fill_thin_holes(canvas, 3.0)
    assert filled[22, 100] and filled[21:24, 21:180].all()
    assert not filled[120, 100] and not filled[120, 135]  # both ring interiors stay open


def test_circles_and_triangles_become_primitives_not_strokes():
    canvas = np.zeros((300, 400), np.uint8)
    cv2.circle(canvas, (90, 150), 60, 255, 4)
    tri = np.array([[200, 250], [380, 240], [300, 60]], np.int32)
    cv2.polylines(canvas, [tri], True, 255, 3)
    result = _vectorizer().vectorize(canvas)
    assert not result.strokes
    assert len(result.circles) == 1 and len(result.triangles) == 1
    circle = result.circles[0]
    assert circle.center == pytest.approx((90, 150), abs=1.0)
    assert circle.radius == pytest.approx(60, abs=1.5)
    assert circle.width == pytest.approx(4, abs=1.5)
    vertices = np.array(result.triangles[0].vertices)
    nearest = np.hypot(*(vertices[:, None] - tri[None]).transpose(2, 0, 1)).min(1)
    assert nearest.max() < 4.0
    ids = [circle.stroke_id, result.triangles[0].stroke_id]
    assert sorted(ids) == [0, 1]


def test_squares_and_ellipses_are_not_triangles_or_circles():
    a = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    ellipse = np.column_stack([100 * np.cos(a), 60 * np.sin(a)])
    assert detect_circle(ellipse, True) is None
    square = np.concatenate(
        [
            np.column_stack([np.arange(100), np.zeros(100)]),
            np.column_stack([np.full(100, 100), np.arange(100)]),
        ]
        + [np.column_stack([100 - np.arange(100), np.full(100, 100)])]
        + [np.column_stack([np.zeros(100), 100 - np.arange(100)])]
    )
    assert detect_triangle(square, True) is None
    assert detect_circle(ellipse[:150], False) is None  # open paths are never shapes


def test_control_points_far_below_a_polyline():
    canvas = np.zeros((300, 300), np.uint8)
    t = np.linspace(0, 1, 200)
    wave = np.column_stack([30 + 240 * t, 150 + 60 * np.sin(2 * np.pi * t)])
    cv2.polylines(canvas, [np.rint(wave).astype(np.int32)], False, 255, 3)
    ours = _vectorizer().vectorize(canvas).strokes
    contours = VECTORIZERS.create("contours", Settings()).vectorize(canvas).strokes
    assert len(ours) == 1
    ours_points = ours[0].control_points.shape[0]
    contour_points = sum(s.control_points.shape[0] for s in contours)
    assert ours_points * 5 < contour_points


def test_batched_curvature_and_fitting_match_the_per_chain_versions():
    rng = np.random.default_rng(1)
    chains = [rng.uniform(0, 100, (3 * n + 1, 2)) for n in (1, 2, 5, 3)]
    for chain, (knots, mean) in zip(chains, chain_curvatures(chains), strict=True):
        assert knots == pytest.approx(knot_curvature(chain))
        assert mean == pytest.approx(mean_abs_curvature(chain))
    t = np.linspace(0, 1, 120)[:, None]
    paths = [np.hstack([t * 100, 20 * np.sin(3 * t)]), np.hstack([t * 50, t * 10])]
    batched = fit_beziers(paths, 0.5, [False, False], [np.zeros(0, int)] * 2)
    for path, (cp, knots) in zip(paths, batched, strict=True):
        assert knots[0] == 0 and knots[-1] == len(path) - 1
        assert _distance_to_polyline(sample(cp, 32), path).max() <= 0.5 + 0.02


def test_dots_and_specks_become_strokes_when_nothing_is_dropped():
    canvas = np.zeros((60, 80), np.uint8)
    canvas[10, 10] = canvas[30, 50] = 255  # lone pixels
    canvas[40:42, 20:22] = 255  # a 2x2 speck
    strokes = _vectorizer(min_length=0.0, spur_length=0.0).vectorize(canvas).strokes
    assert len(strokes) == 3
    for stroke in strokes:
        assert len(stroke.pressure) == len(stroke.control_points[::3])
        assert np.isfinite(stroke.control_points).all() and stroke.width > 0


def test_a_line_map_that_is_all_ink_gives_finite_strokes():
    # No background pixel at all: the distance transform has nothing to measure to.
    result = _vectorizer().vectorize(np.full((60, 80), 255, np.uint8))
    assert result.strokes, "an all-ink map still has ink to trace"  # else the loop checks nothing
    for stroke in result.strokes:
        assert np.isfinite(stroke.control_points).all() and 0 < stroke.width < 100


def test_thinning_equals_scikit_image_guo_hall_thin():
    from skimage.morphology import thin as reference_thin

    rng = np.random.default_rng(3)
    masks = [
        rng.random((int(h), int(w))) < p for h, w, p in rng.uniform(1, 60, (40, 3)) / [1, 1, 60]
    ]
    masks += [cv2.dilate((rng.random((90, 120)) < 0.05).astype(np.uint8), np.ones((5, 5))) > 0]
    blob = np.zeros((420, 440), bool)  # thick enough for thin_pixels' blob path
    blob[5:415, 5:435] = True
    blob[150:165, 40:380] = False
    for mask in [*masks, blob]:
        assert np.array_equal(thin(mask), reference_thin(mask))
