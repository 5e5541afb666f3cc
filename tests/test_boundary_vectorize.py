"""The centerline vectorizer on boundary maps (Canny-like, 1-2 px wide) of shaded objects.

Real footage gives AXIS the outlines of regions, not drawn ink: long closed silhouettes, one
pixel wide with 8-connected staircase steps (or two pixels on diagonals, as non-maximum
suppression leaves them), a little jagged, with 1-2 px breaks, small spurs, and T-junctions
where a front object's outline cuts a back object's. These maps are drawn with OpenCV
(thickness 1, no anti-aliasing) or made by Canny from filled shapes with added noise, and
the strokes are checked against the shapes that made them: how many, how long, closed or
not, and how close every map pixel is to a stroke.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.spatial import cKDTree

from talos.axis.geometry.bezier import arc_length, sample
from talos.axis.strategies import VECTORIZERS, VectorResult
from talos.axis.strokes import Stroke
from talos.config import Settings

SIZE = (720, 1280)  # (H, W) px
CENTER = (640.0, 360.0)  # (x, y) px


def _vectorize(line_map: np.ndarray, **vectorize: object) -> VectorResult:
    return VECTORIZERS.create("centerline", Settings(vectorize=vectorize)).vectorize(line_map)


def _superellipse(
    center: tuple[float, float], axes: tuple[float, float], power: float, angle_deg: float
) -> np.ndarray:
    """``|x/a|^p + |y/b|^p = 1`` rotated by ``angle_deg``: a closed polygon ``(4000, 2)``
    ``(x, y)`` px, its vertices evenly spaced along the curve (~0.5 px apart)."""
    t = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    x = axes[0] * np.sign(c) * np.abs(c) ** (2 / power)
    y = axes[1] * np.sign(s) * np.abs(s) ** (2 / power)
    a = np.deg2rad(angle_deg)
    xy = np.column_stack(
        [center[0] + x * np.cos(a) - y * np.sin(a), center[1] + x * np.sin(a) + y * np.cos(a)]
    )
    # Even spacing along the curve (the flat sides of a superellipse get few samples of t).
    xy = np.vstack([xy, xy[:1]])
    arc = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    even = np.linspace(0, arc[-1], len(t), endpoint=False)
    return np.column_stack([np.interp(even, arc, xy[:, 0]), np.interp(even, arc, xy[:, 1])])


def _ellipse(center: tuple[float, float], axes: tuple[float, float], angle_deg: float = 0.0):
    """A rotated ellipse as :func:`_superellipse` gives it, ``(4000, 2)`` px."""
    return _superellipse(center, axes, 2.0, angle_deg)


def _blob(radius: float, jitter: float, seed: int) -> np.ndarray:
    """A smooth lobed blob around ``CENTER`` (``(2400, 2)`` px, perimeter ~2000 px at radius
    300), its radius moved by ``jitter`` px of noise correlated over ~3 samples: the jagged
    outline of a textured object."""
    t = np.linspace(0, 2 * np.pi, 2400, endpoint=False)
    r = radius * (1 + 0.12 * np.sin(3 * t + 0.4) + 0.06 * np.cos(5 * t) + 0.03 * np.sin(8 * t))
    noise = np.random.default_rng(seed).normal(0, 1, len(t))
    r = r + jitter * np.convolve(noise, np.ones(3) / np.sqrt(3), "same")
    return np.column_stack([CENTER[0] + r * np.cos(t), CENTER[1] + r * np.sin(t)])


def _perimeter(polygon: np.ndarray) -> float:
    return float(np.hypot(*np.diff(np.vstack([polygon, polygon[:1]]), axis=0).T).sum())


def _smooth(polygon: np.ndarray, window: int = 9) -> np.ndarray:
    """A closed polygon's moving average over ``window`` vertices (its jitter taken out)."""
    kernel = np.ones(window) / window
    wrapped = np.vstack([polygon[-window:], polygon, polygon[:window]])
    return np.column_stack(
        [np.convolve(wrapped[:, k], kernel, "same")[window:-window] for k in (0, 1)]
    )


def _outline(polygon: np.ndarray, line_type: int = cv2.LINE_8) -> np.ndarray:
    """The polygon drawn 1 px thick without anti-aliasing, ``(H, W)`` uint8 (ink 255).

    Its vertices are ~0.5 px apart, so the rounded segments meet with the odd redundant
    corner pixel, as Canny's output has them; ``cv2.LINE_4`` makes every diagonal step a
    4-connected corner (2 px wide on diagonals).
    """
    canvas = np.zeros(SIZE, np.uint8)
    cv2.polylines(canvas, [np.rint(polygon).astype(np.int32)], True, 255, 1, line_type)
    return canvas


def _filled(polygon: np.ndarray) -> np.ndarray:
    """Pixels inside the polygon, ``(H, W)`` bool (vertices at 1/16 px)."""
    mask = np.zeros(SIZE, np.uint8)
    cv2.fillPoly(mask, [np.rint(polygon * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    return mask > 0


def _canny(layers: list[tuple[np.ndarray, int]], noise: float, blur: float, seed: int):
    """Canny (50/150, L2 gradient) of filled polygons painted back to front at their gray
    levels over gray 40, with Gaussian pixel noise of ``noise`` levels and a ``blur`` px
    Gaussian pre-blur: the 1-px boundary map an edge strategy makes of shaded footage."""
    image = np.full(SIZE, 40.0)
    for polygon, level in layers:
        image[_filled(polygon)] = level
    image += np.random.default_rng(seed).normal(0, noise, SIZE)
    gray = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (0, 0), blur)
    return cv2.Canny(gray, 50, 150, L2gradient=True)


def _samples(strokes: list[Stroke] | tuple[Stroke, ...]) -> np.ndarray:
    """Points along the strokes, ``(n, 2)`` px, at most ~0.5 px apart."""
    per = [max(16, int(2 * arc_length(s.control_points) / (len(s.knots) - 1))) for s in strokes]
    return np.concatenate([sample(s.control_points, k) for s, k in zip(strokes, per, strict=True)])


def _pixel_distances(line_map: np.ndarray, strokes) -> np.ndarray:
    """Distance of every map pixel to the nearest stroke sample, ``(k,)`` px."""
    yx = np.argwhere(line_map > 0)
    return cKDTree(_samples(strokes)).query(yx[:, ::-1])[0]


def _distance_to(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Distance of each point ``(n, 2)`` to a dense polygon's vertices ``(m, 2)``, px."""
    return cKDTree(polygon).query(np.atleast_2d(points))[0]


def _lengths(result: VectorResult) -> list[int]:
    return sorted((round(arc_length(s.control_points)) for s in result.strokes), reverse=True)


def _assert_covered(line_map: np.ndarray, strokes, reach: float = 2.0, share: float = 0.995):
    """The strokes draw the map: every pixel within ``reach`` px of a stroke, and ``share``
    of them within 1.5 px (the fit may leave a centerline by up to ``tolerance`` = 1 px, and
    a pixel thinning removed lies up to ~0.7 px off the centerline)."""
    distance = _pixel_distances(line_map, strokes)
    assert distance.max() <= reach
    assert (distance <= 1.5).mean() >= share


def _assert_one_closed_stroke(
    result: VectorResult, polygon: np.ndarray, line_map: np.ndarray, share: float = 0.995
) -> None:
    """One closed stroke, no seam gap, the polygon's length (±3 %), within 1.5 px of the
    polygon, drawing the map."""
    assert not result.circles and not result.triangles
    assert len(result.strokes) == 1, _lengths(result)
    stroke = result.strokes[0]
    assert stroke.closed
    assert np.array_equal(stroke.control_points[0], stroke.control_points[-1])
    assert arc_length(stroke.control_points) == pytest.approx(_perimeter(polygon), rel=0.03)
    assert _distance_to(_samples(result.strokes), polygon).max() <= 1.5
    _assert_covered(line_map, result.strokes, share=share)


ELLIPSE = _ellipse(CENTER, (400.0, 230.0), 10.0)  # perimeter ~2015 px


@pytest.mark.parametrize("line_type", [cv2.LINE_8, cv2.LINE_4], ids=["8-connected", "4-connected"])
def test_a_one_pixel_ellipse_is_one_closed_stroke_of_its_perimeter(line_type):
    line_map = _outline(ELLIPSE, line_type)
    result = _vectorize(line_map)
    _assert_one_closed_stroke(result, ELLIPSE, line_map)
    if line_type == cv2.LINE_8:
        assert _pixel_distances(line_map, result.strokes).max() <= 1.5


@pytest.mark.parametrize("shift", [(1, 0), (1, 1)], ids=["sideways", "diagonally"])
def test_a_two_pixel_wide_ellipse_is_one_closed_stroke_down_its_middle(shift):
    one = _outline(ELLIPSE)
    line_map = one | np.roll(one, shift, axis=(1, 0))
    middle = ELLIPSE + np.array(shift) / 2
    # Every pixel of the band is 0.5-0.7 px from its middle, where the stroke runs.
    _assert_one_closed_stroke(_vectorize(line_map), middle, line_map, share=0.98)


def test_a_rotated_superellipse_is_one_closed_stroke():
    polygon = _superellipse(CENTER, (380.0, 220.0), 4.0, 25.0)
    line_map = _outline(polygon)
    _assert_one_closed_stroke(_vectorize(line_map), polygon, line_map)


@pytest.mark.parametrize("missing", [1, 2])
def test_small_breaks_in_a_silhouette_are_bridged(missing):
    line_map = _outline(ELLIPSE)
    # The ring's pixels in order: by angle around its centre (it is star-shaped).
    y, x = np.nonzero(line_map)
    ring = np.argsort(np.arctan2(y - CENTER[1], x - CENTER[0]))
    # Nine breaks all around: along straight runs and diagonal staircases alike.
    for start in np.linspace(0, len(ring), 9, endpoint=False).astype(int):
        gone = ring[start : start + missing]
        line_map[y[gone], x[gone]] = 0
    _assert_one_closed_stroke(_vectorize(line_map), ELLIPSE, line_map)


def test_little_spurs_on_a_silhouette_are_pruned():
    line_map = _outline(ELLIPSE)
    rng = np.random.default_rng(4)
    normals = np.roll(ELLIPSE, -1, axis=0) - np.roll(ELLIPSE, 1, axis=0)
    normals = np.column_stack([normals[:, 1], -normals[:, 0]]) / np.hypot(*normals.T)[:, None]
    for i in rng.choice(len(ELLIPSE), 12, replace=False):
        tip = ELLIPSE[i] + rng.choice([-1, 1]) * rng.uniform(2, 5) * normals[i]
        root = tuple(np.rint(ELLIPSE[i]).astype(int))
        cv2.line(line_map, root, tuple(np.rint(tip).astype(int)), 255)
    result = _vectorize(line_map)
    assert len(result.strokes) == 1 and result.strokes[0].closed, _lengths(result)
    stroke = result.strokes[0]
    assert arc_length(stroke.control_points) == pytest.approx(_perimeter(ELLIPSE), rel=0.03)
    assert _distance_to(_samples(result.strokes), ELLIPSE).max() <= 1.5


@pytest.mark.parametrize("angle", [20, 30, 45, 60, 90])
def test_one_pixel_lines_crossing_at_an_angle_stay_two_whole_strokes(angle):
    line_map = np.zeros(SIZE, np.uint8)
    centre = np.array(CENTER)
    for a in (0.0, np.deg2rad(angle)):
        half = 200 * np.array([np.cos(a), np.sin(a)])
        ends = np.rint([centre - half, centre + half]).astype(int)
        cv2.line(line_map, tuple(ends[0]), tuple(ends[1]), 255, 1)
    result = _vectorize(line_map)
    assert len(result.strokes) == 2, _lengths(result)
    assert min(_lengths(result)) >= 395


def _outline_strokes(result: VectorResult, polygon: np.ndarray) -> list[Stroke]:
    """The strokes that run along the polygon (half their length within 2 px of it)."""
    return [s for s in result.strokes if np.median(_distance_to(_samples([s]), polygon)) <= 2.0]


@pytest.mark.parametrize("seed", range(6))
def test_a_jagged_canny_silhouette_becomes_one_or_two_long_strokes(seed):
    polygon = _blob(300.0, jitter=1.2, seed=seed)  # ±1-2 px jagged
    line_map = _canny([(polygon, 150)], noise=24.0, blur=1.0, seed=seed)
    result = _vectorize(line_map)
    strokes = _outline_strokes(result, polygon)
    lengths = [arc_length(s.control_points) for s in strokes]
    assert 1 <= len(strokes) <= 2, _lengths(result)
    if len(strokes) == 1:
        assert strokes[0].closed
    # Together they run the outline's length once (its jitter smoothed out) ...
    assert sum(lengths) == pytest.approx(_perimeter(_smooth(polygon)), rel=0.03)
    # ... and draw it: nearly every outline pixel within 1.5 px, none farther than a pruned
    # spur (a jagged pixel off the smoothed stroke, or a speck of noise on the outline).
    on_outline = line_map * (
        _distance_to(np.indices(SIZE).reshape(2, -1).T[:, ::-1], polygon) <= 3
    ).reshape(SIZE)
    distance = _pixel_distances(on_outline, strokes)
    assert (distance <= 1.5).mean() >= 0.95
    assert distance.max() <= Settings().vectorize.spur_length


BACK = _ellipse((480.0, 360.0), (300.0, 200.0))
FRONT = _ellipse((820.0, 380.0), (260.0, 220.0), 20.0)


def _check_occlusion(result: VectorResult, line_map: np.ndarray) -> None:
    """The front outline is one closed stroke; the back one's visible arc is one open stroke
    ending on the front outline (within 2 px) at both ends; nothing else, nothing short."""
    front = _outline_strokes(result, FRONT)
    back = _outline_strokes(result, BACK)
    assert len(result.strokes) == 2 and len(front) == 1 and len(back) == 1, _lengths(result)
    assert not result.circles and not result.triangles
    assert front[0].closed and not back[0].closed
    ends = back[0].control_points[[0, -1]]
    assert _distance_to(ends, FRONT).max() <= 2.0
    hidden = _filled(FRONT)[np.rint(BACK[:, 1]).astype(int), np.rint(BACK[:, 0]).astype(int)]
    visible = BACK[~hidden]  # one run of vertices: BACK starts inside FRONT
    visible_length = np.hypot(*np.diff(visible, axis=0).T).sum()
    assert arc_length(back[0].control_points) == pytest.approx(visible_length, rel=0.03)
    assert arc_length(front[0].control_points) == pytest.approx(_perimeter(FRONT), rel=0.03)
    _assert_covered(line_map, result.strokes)


def test_an_outline_drawn_over_a_silhouette_makes_two_t_junctions():
    line_map = _outline(BACK)
    line_map[_filled(FRONT)] = 0  # the front object hides the back one's outline ...
    line_map |= _outline(FRONT)  # ... and draws its own on top
    _check_occlusion(_vectorize(line_map), line_map)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_canny_of_an_occluding_object_makes_two_t_junctions(seed):
    # Canny breaks both T-junctions: the front outline's inner arc or the back outline
    # stops 1-4 px short of the other, as non-maximum suppression has it at a junction.
    line_map = _canny([(BACK, 130), (FRONT, 220)], noise=8.0, blur=1.5, seed=seed)
    _check_occlusion(_vectorize(line_map), line_map)


def test_attaching_ends_joins_the_broken_boundaries_of_a_photo():
    from skimage.data import astronaut

    image = cv2.resize(astronaut(), (1280, 720), interpolation=cv2.INTER_AREA)
    gray = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (0, 0), 1.5)
    line_map = cv2.Canny(gray, 50, 150, L2gradient=True)
    attached, apart = _vectorize(line_map), _vectorize(line_map, attach_gap=0.0)
    # Fewer, longer strokes ...
    assert len(attached.strokes) <= 0.95 * len(apart.strokes)
    assert np.median(_lengths(attached)) >= np.median(_lengths(apart))
    assert sum(s.closed for s in attached.strokes) >= sum(s.closed for s in apart.strokes)
    # ... drawing the map about as well: specks under ``min_length`` and spurs are not
    # drawn, and a few more are left over where an attached end takes a line's way on.
    near = (_pixel_distances(line_map, attached.strokes) <= 1.5).mean()
    assert near >= (_pixel_distances(line_map, apart.strokes) <= 1.5).mean() - 0.01
    assert near >= 0.95


@pytest.mark.parametrize("radius", [3.0, 3.5, 4.0, 6.0])
def test_small_round_outlines_stay_rings(radius):
    # A pupil or a dot on a boundary map: its outline encloses a round hole a few pixels
    # across, which is not the sliver between the two edges of a wide line.
    image = np.full((60, 60), 200, np.uint8)
    cv2.circle(image, (30 * 16, 30 * 16), int(radius * 16), 40, -1, cv2.LINE_AA, 4)
    line_map = cv2.Canny(cv2.GaussianBlur(image, (0, 0), 1.0), 50, 150, L2gradient=True)
    result = _vectorize(line_map)
    rings = list(result.circles) + [s for s in result.strokes if s.closed]
    assert len(rings) == 1 and len(result.strokes) + len(result.circles) == 1
    if result.circles:
        assert result.circles[0].radius == pytest.approx(radius, abs=1.0)
