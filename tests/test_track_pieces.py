"""Point-level tracking: cutting and joining strokes exactly, claims along strokes, re-cut at
junctions, re-join at crossings, re-identification, the track graph, temporal hysteresis."""

from __future__ import annotations

import numpy as np
import pytest

from talos.axis.geometry.bezier import sample
from talos.axis.strokes import Stroke
from talos.axis.tracking import reid as reid_module
from talos.axis.tracking import tracker as tracker_module
from talos.axis.tracking.claims import (
    UNCLAIMED,
    claim_points,
    clean_labels,
    curve_normals,
    refine_offsets,
)
from talos.axis.tracking.hysteresis import (
    MovedLines,
    expected_lines,
    lasting_lines,
    pack_mask,
    pixel_groups,
    recovered_lines,
    unpack_mask,
)
from talos.axis.tracking.pieces import cut_stroke, join_strokes, reversed_stroke, split_cubic
from talos.axis.tracking.reid import DormantTracks, look_difference, side_colours
from talos.axis.tracking.tracker import StrokeTracker
from talos.axis.tracking.tracks import Track

SHAPE = (240, 320)


def _curve(points: list[list[float]], sid: int = 0, closed: bool = False) -> Stroke:
    """A smooth chain through ``points`` (Catmull–Rom handles), pressure rising along it."""
    p = np.asarray(points, np.float64)
    if closed:
        p = np.vstack([p, p[:1]])
    prev = np.vstack([p[-2:-1] if closed else p[:1], p[:-1]])
    nxt = np.vstack([p[1:], p[1:2] if closed else p[-1:]])
    tangent = (nxt - prev) / 6.0
    cp = np.empty((3 * (len(p) - 1) + 1, 2))
    cp[0::3] = p
    cp[1::3] = p[:-1] + tangent[:-1]
    cp[2::3] = p[1:] - tangent[1:]
    return Stroke(sid, cp, np.linspace(0.2, 1.0, len(p)), closed=closed)


def _dist_to_curve(points: np.ndarray, stroke: Stroke) -> np.ndarray:
    dense = sample(stroke.control_points, per_segment=2000)
    return np.min(np.linalg.norm(points[:, None] - dense[None], axis=2), axis=1)


def _line(x0: float, y0: float, x1: float, y1: float, sid: int = 0, n: int = 6) -> Stroke:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return Stroke.from_polyline(np.array([x0, y0]) * (1 - t) + np.array([x1, y1]) * t, sid)


# ------------------------------------------------------------------------- pieces


def test_split_cubic_halves_trace_the_same_curve():
    seg = np.array([[0.0, 0.0], [10.0, 30.0], [40.0, -10.0], [50.0, 20.0]])
    left, right = split_cubic(seg, 0.3)
    whole = sample(seg, per_segment=100)
    for part in (left, right):
        assert _dist_to_curve(sample(part, per_segment=50), Stroke(0, seg, np.ones(2))).max() < 0.05
    assert np.allclose(left[0], whole[0]) and np.allclose(right[-1], whole[-1])
    assert np.allclose(left[-1], right[0])


def test_cut_stroke_pieces_lie_on_the_curve_and_pressure_is_interpolated():
    stroke = _curve([[20, 20], [80, 60], [140, 40], [200, 90], [260, 70]])
    pieces = cut_stroke(stroke, [(1, 0.5), (3, 0.25)])
    assert len(pieces) == 3 and not any(p.closed for p in pieces)
    for piece in pieces:
        assert _dist_to_curve(sample(piece.control_points, 20), stroke).max() < 0.05
    assert np.allclose(pieces[0].control_points[-1], pieces[1].control_points[0])
    assert np.allclose(pieces[1].control_points[-1], pieces[2].control_points[0])
    # knot pressure at the cut in segment 1 at t = 0.5: halfway between knots 1 and 2
    assert pieces[0].pressure[-1] == pytest.approx(0.5 * (stroke.pressure[1] + stroke.pressure[2]))
    assert pieces[0].pressure[0] == pytest.approx(stroke.pressure[0])


def test_cut_closed_stroke_gives_one_piece_per_cut_starting_with_the_wrap():
    ring = _curve([[100, 50], [150, 100], [100, 150], [50, 100]], closed=True)
    pieces = cut_stroke(ring, [(1, 0.5), (3, 0.5)])
    assert len(pieces) == 2
    wrap = pieces[0]  # from the last cut, through the start, to the first cut
    assert np.allclose(wrap.control_points[0], pieces[1].control_points[-1], atol=1e-4)
    assert np.allclose(wrap.control_points[-1], pieces[1].control_points[0], atol=1e-4)
    total = sum(len(sample(p.control_points, 50)) for p in pieces)
    assert total > 0
    for piece in pieces:
        assert _dist_to_curve(sample(piece.control_points, 20), ring).max() < 0.05


def test_join_bridges_a_gap_straight_and_keeps_the_first_id():
    a, b = _line(10, 10, 100, 10, sid=3), _line(110, 10, 200, 10, sid=9)
    joined = join_strokes(a, b)
    assert joined.stroke_id == 3 and joined.knots.shape[0] == a.knots.shape[0] + b.knots.shape[0]
    pts = sample(joined.control_points, 10)
    assert np.abs(pts[:, 1] - 10).max() < 1e-6  # the bridge is straight
    assert pts[:, 0].min() == pytest.approx(10) and pts[:, 0].max() == pytest.approx(200)
    touching = join_strokes(a, _line(100.2, 10, 150, 10))  # no bridge: one shared knot
    assert touching.knots.shape[0] == a.knots.shape[0] + 6 - 1
    back = reversed_stroke(a)
    assert np.allclose(back.control_points[0], a.control_points[-1])


# ------------------------------------------------------------------------- claims


def test_refine_offsets_recovers_a_shift():
    t = np.linspace(0, 2 * np.pi, 80)
    ring = np.column_stack([100 + 30 * np.cos(t), 100 + 20 * np.sin(t)])
    one = np.zeros(80, np.int64)
    moved = ring + [3.0, -2.0]
    offsets = refine_offsets(ring, one, 1, moved, curve_normals(moved, one), gate=8.0)
    assert np.allclose(offsets[0], [3.0, -2.0], atol=0.1)
    far = ring + [100.0, 0.0]
    assert np.allclose(refine_offsets(ring, one, 1, far, curve_normals(far, one), gate=8.0), 0.0)
    # along a straight line only the normal part of a shift can be seen: the rest stays 0
    line = np.column_stack([np.linspace(0, 100, 40), np.full(40, 50.0)])
    flat = np.zeros(40, np.int64)
    shifted = line + [5.0, 2.0]
    offsets = refine_offsets(line, flat, 1, shifted, curve_normals(shifted, flat), gate=8.0)
    assert np.allclose(offsets[0], [0.0, 2.0], atol=0.05)


def test_clean_labels_drops_crossings_and_shares_unclaimed_stretches():
    u = UNCLAIMED
    # one line only (or none): the whole stroke is that line's
    assert clean_labels(np.array([u, 4, 4, u]), 3).tolist() == [4, 4, 4, 4]
    assert clean_labels(np.array([u, u]), 3).tolist() == [u, u]
    # a brief claim of another line where it crosses is dropped
    labels = np.array([1] * 10 + [2, 2] + [1] * 10)
    assert set(clean_labels(labels, 4).tolist()) == {1}
    # unclaimed stretch between two lines: half each; at an end: to its neighbour
    labels = np.array([1] * 6 + [u] * 4 + [2] * 6 + [u] * 3)
    out = clean_labels(labels, 3)
    assert out.tolist() == [1] * 8 + [2] * 11
    # closed: the stretch across the start is one
    ring = np.array([u, u, 5, 5, 5, 5, 7, 7, 7, 7, u])
    assert clean_labels(ring, 3, closed=True).tolist()[:2] == [5, 5]


# ----------------------------------------------------------------- the tracker


def _ids_near(strokes: list[Stroke], point: tuple[float, float]) -> set[int]:
    p = np.asarray(point, np.float64)[None]
    return {s.stroke_id for s in strokes if _dist_to_curve(p, s)[0] < 2.0}


def test_stroke_joining_two_tracked_lines_is_cut_and_both_keep_their_ids():
    tracker = StrokeTracker()
    a, b = _line(20, 100, 150, 100), _line(150, 100, 150, 220)
    for t in range(4):  # two separate lines meeting at a corner, seen for a while
        out = tracker.update([a, b], None, t, SHAPE)
    id_a, id_b = _ids_near(out, (60, 100)), _ids_near(out, (150, 180))
    assert len(id_a) == len(id_b) == 1 and id_a != id_b
    # the vectorizer now runs one into the other: one stroke around the corner
    corner = Stroke.from_polyline(np.array([[20, 100], [150, 100], [150, 220]]), 0)
    out = tracker.update([corner], None, 4, SHAPE)
    assert len(out) == 2
    assert _ids_near(out, (60, 100)) == id_a and _ids_near(out, (150, 180)) == id_b


def test_two_lines_the_vectorizer_runs_straight_on_into_each_other_for_frames_merge():
    tracker = StrokeTracker()
    # one line first seen in two pieces (an outline cut where another line met it)
    left, right = _line(20, 100, 140, 100), _line(146, 100, 300, 100)
    for t in range(5):
        out = tracker.update([left, right], None, t, SHAPE)
    id_left, id_right = _ids_near(out, (60, 100)), _ids_near(out, (250, 100))
    assert len(id_left) == len(id_right) == 1 and id_left != id_right
    whole = _line(20, 100, 300, 100)
    ids_per_frame = []
    for t in range(5, 9):
        out = tracker.update([whole], None, t, SHAPE)
        ids_per_frame.append({s.stroke_id for s in out})
    # two frames of evidence are a coincidence; from the third, one line with the larger id
    assert ids_per_frame[0] == ids_per_frame[1] == id_left | id_right
    assert ids_per_frame[2] == ids_per_frame[3] == id_right


def test_two_lines_the_vectorizer_runs_into_each_other_at_a_corner_stay_two():
    tracker = StrokeTracker()
    a, b = _line(20, 100, 150, 100), _line(150, 100, 150, 220)
    for t in range(4):
        out = tracker.update([a, b], None, t, SHAPE)
    corner = Stroke.from_polyline(np.array([[20, 100], [150, 100], [150, 220]]), 0)
    for t in range(4, 10):
        out = tracker.update([corner], None, t, SHAPE)
        assert len(out) == 2


def _arc(first_deg: float, last_deg: float, sid: int = 0) -> Stroke:
    angle = np.deg2rad(np.linspace(first_deg, last_deg, 40))
    return Stroke.from_polyline(
        np.column_stack([160 + 120 * np.cos(angle), 220 + 120 * np.sin(angle)]), sid
    )


def test_two_lines_that_run_straight_on_but_slide_along_each_other_stay_two():
    tracker = StrokeTracker()
    # two outlines on one circle meet end to end: the left one still, the right one (another
    # shape) turning about the circle's centre by 1 degree a frame, sliding along it
    ys, xs = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float32)
    turn = np.deg2rad(1.0)
    flow = np.zeros((*SHAPE, 2), np.float32)
    flow[..., 0] = (np.cos(turn) - 1) * (xs - 160) - np.sin(turn) * (ys - 220)
    flow[..., 1] = np.sin(turn) * (xs - 160) + (np.cos(turn) - 1) * (ys - 220)
    flow[:, :134] = 0.0
    for t in range(10):
        strokes = [_arc(190, 255), _arc(260 + t, 330 + t)]
        if t >= 4:  # the vectorizer runs one into the other
            strokes = [_arc(190, 330 + t)]
        out = tracker.update(strokes, flow if t else None, t, SHAPE)
        assert len(out) == 2


def test_outlines_of_two_round_shapes_that_touch_stay_two():
    tracker = StrokeTracker()
    # two arcs meeting at (150, 110) with one tangent, curving opposite ways (an S)
    up = np.deg2rad(np.linspace(180.0, 270.0, 30))
    down = np.deg2rad(np.linspace(90.0, 0.0, 30))
    a = np.column_stack([150 + 100 * np.cos(up), 210 + 100 * np.sin(up)])
    b = np.column_stack([150 + 100 * np.cos(down), 10 + 100 * np.sin(down)])
    for t in range(4):
        out = tracker.update(
            [Stroke.from_polyline(a, 0), Stroke.from_polyline(b, 1)], None, t, SHAPE
        )
    s_curve = Stroke.from_polyline(np.vstack([a, b[1:]]), 0)
    for t in range(4, 10):
        out = tracker.update([s_curve], None, t, SHAPE)
        assert len(out) == 2


def test_lines_that_cross_keep_their_ids_when_the_vectorizer_pairs_them_wrongly():
    tracker = StrokeTracker()
    # two lines crossing at (160, 120) at about 30 degrees
    a = _line(40, 120, 280, 120, n=9)
    b = _line(40, 50, 280, 190, n=9)
    for t in range(3):
        out = tracker.update([a, b], None, t, SHAPE)
    id_a, id_b = _ids_near(out, (60, 120)), _ids_near(out, (60, 61.7))
    assert len(id_a) == len(id_b) == 1 and id_a != id_b
    # the vectorizer paired the halves the wrong way round at the crossing
    x = np.array([160.0, 120.0])
    wrong_1 = Stroke.from_polyline(np.array([[40, 120], x, [280, 190]]), 0)
    wrong_2 = Stroke.from_polyline(np.array([[40, 50], x, [280, 120]]), 1)
    line_map = np.zeros(SHAPE, np.uint8)
    out = tracker.update([wrong_1, wrong_2], None, 3, SHAPE, line_map=line_map)
    # each line is one stroke again, with its own id, on both sides of the crossing
    assert _ids_near(out, (60, 120)) == id_a and _ids_near(out, (260, 120)) == id_a
    assert _ids_near(out, (60, 61.7)) == id_b and _ids_near(out, (260, 178.3)) == id_b
    assert len(out) == 2


def test_an_occluder_sweeping_over_a_line_does_not_take_its_id():
    tracker = StrokeTracker()
    # an occluder's edge (long) above a short line on the object behind it
    edge, hidden = _line(20, 100, 300, 100), _line(140, 108, 190, 108, n=4)
    for t in range(4):
        out = tracker.update([edge, hidden], None, t, SHAPE)
    id_edge, id_hidden = _ids_near(out, (60, 100)), _ids_near(out, (160, 108))
    assert len(id_edge) == len(id_hidden) == 1 and id_edge != id_hidden
    # the occluder moves down over the short line, turning a little: its edge now runs where
    # that line was, and ends there (the vectorizer cut it at a junction with the object's
    # outline); the edge's prediction, moved by one translation, is off by a pixel or two
    moved = Stroke.from_polyline(np.array([[20, 114], [150, 108], [188, 108]]), 0)
    out = tracker.update([moved], None, 4, SHAPE)
    assert len(out) == 1 and out[0].stroke_id in id_edge


def test_claims_on_a_stretch_of_the_stroke_s_own_line_go_to_it():
    # two predictions: line 0 along y = 0 (x 0..60), line 1 along y = 1 (x 20..40)
    line_0 = np.column_stack([np.arange(0.0, 61.0, 3.0), np.zeros(21)])
    line_1 = np.column_stack([np.arange(20.0, 41.0, 3.0), np.ones(7)])
    predicted = np.vstack([line_0, line_1])
    track_of = np.repeat([0, 1], [21, 7])
    start = np.array([0, 21])
    # stroke 0 runs along y = 1 over both; stroke 1 along y = 3, nearer line 1 than line 0
    points = np.vstack([np.column_stack([np.arange(0.0, 61.0, 3.0), np.ones(21)]), line_1 + [0, 2]])
    owner = np.repeat([0, 1], [21, 7])
    nearest = claim_points(points, predicted, track_of, start, 4.0)
    assert set(nearest.track[:21].tolist()) == {0, 1}  # the nearest line is line 1 in the middle
    claims = claim_points(points, predicted, track_of, start, 4.0, owner)
    assert claims.track[:21].tolist() == [0] * 21
    assert (claims.position[:21] == np.arange(21)).all()
    # a stroke that follows line 1 stays line 1's, though line 0 is within reach too
    assert claims.track[21:].tolist() == nearest.track[21:].tolist() == [1] * 7


def test_a_split_is_recorded_in_the_track_graph_and_mends_back():
    tracker = StrokeTracker()
    whole = _line(20, 100, 300, 100, n=12)
    (first,) = tracker.update([whole], None, 0, SHAPE)
    tracker.update([whole], None, 1, SHAPE)
    # a break the vectorizer made: the smaller piece is a new track split off the line
    out = tracker.update([_line(20, 100, 200, 100), _line(240, 100, 300, 100)], None, 2, SHAPE)
    ids = {s.stroke_id for s in out}
    assert first.stroke_id in ids and len(ids) == 2
    (child,) = ids - {first.stroke_id}
    (mended,) = tracker.update([whole], None, 3, SHAPE)
    assert mended.stroke_id == first.stroke_id
    rows = {r["stroke_id"]: r for r in tracker.table()}
    assert rows[child]["parents"] == [first.stroke_id]
    assert child in rows[first.stroke_id]["children"]
    assert rows[first.stroke_id]["frames"] == [[0, 3]]
    assert rows[child]["frames"] == [[2, 2]]
    assert 0.0 <= rows[first.stroke_id]["consistency"] <= 1.0


def test_a_mended_line_keeps_the_id_it_had_before_it_broke_though_its_split_piece_grew():
    tracker = StrokeTracker()
    for frame in range(5):  # an established line
        (first,) = tracker.update([_line(20, 100, 300, 100, n=12)], None, frame, SHAPE)
    # It breaks; the break wanders left, so the piece split off grows past the other.
    for frame, cut in enumerate(range(200, 110, -10), start=5):
        out = tracker.update(
            [_line(20, 100, cut, 100), _line(cut + 20, 100, 300, 100)], None, frame, SHAPE
        )
        assert first.stroke_id in {s.stroke_id for s in out} and len(out) == 2
    (mended,) = tracker.update([_line(20, 100, 300, 100, n=12)], None, 14, SHAPE)
    assert mended.stroke_id == first.stroke_id


def test_a_line_hidden_longer_than_max_lost_gets_its_id_back():
    def run(reid_frames: int) -> tuple[int, int]:
        tracker = StrokeTracker(max_lost=2, reid_frames=reid_frames)
        a, b = _curve([[40, 60], [80, 40], [120, 70]]), _curve([[180, 150], [230, 120], [280, 160]])
        for t in range(5):
            out = tracker.update([a, b], None, t, SHAPE)
        (id_b,) = _ids_near(out, (230, 120)) or {None}
        for t in range(5, 12):  # b hidden 7 frames, longer than max_lost
            tracker.update([a], None, t, SHAPE)
        out = tracker.update([a, b], None, 12, SHAPE)
        (back,) = _ids_near(out, (230, 120))
        return id_b, back

    id_b, back = run(reid_frames=48)
    assert back == id_b
    id_b, back = run(reid_frames=0)  # re-identification off: a new id
    assert back != id_b


def test_a_returning_line_is_not_given_the_id_of_a_different_shape():
    tracker = StrokeTracker(max_lost=1)
    arc = _curve([[100, 60], [140, 100], [100, 140], [60, 100]], closed=True)
    for t in range(4):
        (first,) = tracker.update([arc], None, t, SHAPE)
    for t in range(4, 8):
        tracker.update([], None, t, SHAPE)
    (other,) = tracker.update([_line(60, 100, 140, 100)], None, 8, SHAPE)
    assert other.stroke_id != first.stroke_id


def test_a_line_seen_once_and_hidden_comes_back_with_its_id_only_near_where_it_was():
    """A weak line the edges find one frame in several (a fold, a pupil) is kept dormant
    after a single frame; having no motion to go by, it may come back only as far as its
    own length (or the gate) from where it was, not a dormant line's reach."""

    def comes_back(dx: float) -> bool:
        tracker = StrokeTracker(max_lost=1)
        a = _curve([[40, 60], [80, 40], [120, 70]])
        (dash,) = _ids_near(
            tracker.update([a, _line(200, 150, 210, 152, n=3)], None, 0, SHAPE), (205, 151)
        )
        for t in range(1, 5):
            tracker.update([a], None, t, SHAPE)
        out = tracker.update([a, _line(200 + dx, 156, 210 + dx, 158, n=3)], None, 5, SHAPE)
        return _ids_near(out, (205 + dx, 157)) == {dash}

    assert comes_back(0.0)
    assert not comes_back(30.0)


def test_dormant_tracks_are_bounded_and_expire():
    pool = DormantTracks(max_age=3, capacity=2, min_frames=1)
    for k in range(4):
        pool.add(Track(k, np.array([[0.0, 0.0], [10.0, 0.0]]) + k, False, 0, 0))
    assert len(pool) == 2 and [t.track_id for t in pool.tracks] == [2, 3]
    for _ in range(3):
        assert pool.advance() == []
    assert [t.track_id for t in pool.advance()] == [2, 3] and len(pool) == 0


def test_primitives_keep_ids_and_order():
    tracker = StrokeTracker()
    ring = _curve([[100, 50], [150, 100], [100, 150], [50, 100]], closed=True)
    line = _line(200, 40, 300, 60)
    out0 = tracker.update([line], None, 0, SHAPE, primitives=[ring])
    out1 = tracker.update([line], None, 1, SHAPE, primitives=[ring])
    assert [s.stroke_id for s in out0] == [s.stroke_id for s in out1]
    assert out1[-1].closed and len(out1) == 2


# -------------------------------------------------------------- temporal hysteresis


def test_pixel_groups_are_the_8_connected_components():
    import cv2

    rng = np.random.default_rng(4)
    mask = (rng.random((60, 90)) > 0.8).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    groups = pixel_groups(ys, xs)
    _, labels = cv2.connectedComponents(mask, connectivity=8)
    # the same partition: pixels share a group exactly when OpenCV gives them one label
    pairs = {(int(g), int(label)) for g, label in zip(groups, labels[ys, xs], strict=True)}
    assert len(pairs) == len(set(groups.tolist())) == len(set(labels[ys, xs].tolist()))


def test_pack_mask_round_trip():
    mask = np.random.default_rng(0).random((37, 53)) > 0.7
    packed = pack_mask(mask)
    assert packed[0].nbytes <= mask.size // 8 + 1
    assert np.array_equal(unpack_mask(packed), mask)


def test_only_lines_seen_twice_in_a_row_keep_weak_evidence_alive():
    shape = (60, 120)
    flow = np.zeros((*shape, 2), np.float32)
    lasting, blip = _line(10, 20, 100, 20), _line(10, 45, 100, 45)
    # only the first was there before
    persisted = expected_lines(MovedLines.of([lasting], flow), shape, radius=2)
    lines = MovedLines.of([lasting, blip], flow)
    assert lasting_lines(lines, persisted).tolist() == [True, False]
    assert lasting_lines(lines, None).tolist() == [False, False]
    # the lasting one alone is drawn where it went: as if sampled on its own
    alone = expected_lines(lines.subset(np.array([True, False])), shape, radius=2)
    assert np.array_equal(alone, persisted)


def test_weak_evidence_near_last_frames_line_survives_and_nothing_else():
    shape = (120, 200)
    flow = np.zeros((*shape, 2), np.float32)
    flow[..., 0] = 3.0  # everything moved 3 px right
    last = [_line(20, 40, 120, 40)]
    expected = expected_lines(MovedLines.of(last, flow), shape, radius=2)
    assert expected[40, 23] and expected[40, 123] and not expected[40, 15]
    line_map = np.zeros(shape, np.uint8)
    line_map[40, 23:60] = 255  # the strong part of the line is still found ...
    weak = np.zeros(shape, bool)
    weak[41, 70:123] = True  # ... its weakened rest is a weak ridge
    weak[90, 30:100] = True  # a weak edge elsewhere: texture, or a new faint line
    weak[40, 140:150] = True  # beyond where the line went
    found = np.zeros(shape, bool)
    found[recovered_lines(line_map, weak, expected, min_pixels=8)] = True
    assert found[41, 70:123].all()
    assert not found[90].any() and not found[40, 140:150].any()
    # the line's object left: no weak evidence, nothing recovered
    ys, _ = recovered_lines(line_map, np.zeros(shape, bool), expected, 8)
    assert len(ys) == 0


# -------------------------------------------------- identity with linked pieces


def test_identity_counts_the_linked_pieces_of_a_line_as_one(tmp_path):
    import json

    from talos.axis.evaluation.identity import evaluate_identity, line_roots
    from talos.axis.io.frames import stroke_to_dict

    # one true line across the frame, traced as two equal pieces (an occluder's gap): the
    # second piece is a track that broke off the first (split_from)
    truth = {
        "width": 320, "height": 240, "fps": 24, "frames": 3,
        "lines": [{"id": 0, "kind": "line", "width": 2.0, "closed": False}],
        "frame_truth": [
            {"index": i, "lines": [{"id": 0, "closed": False, "points": [[20, 100], [300, 100]]}]}
            for i in range(3)
        ],
    }  # fmt: skip
    (tmp_path / "frames").mkdir()
    entries = []
    for i in range(3):
        strokes = [_line(20, 100, 155, 100, sid=4), _line(165, 100, 300, 100, sid=9)]
        path = f"frames/{i:06d}.json"
        (tmp_path / path).write_text(json.dumps({"strokes": [stroke_to_dict(s) for s in strokes]}))
        entries.append({"index": i, "time": i / 24, "path": path, "stroke_count": 2})
    tracks = [
        {"stroke_id": 4, "first_frame": 0, "last_frame": 2, "length": 3, "split_from": None},
        {"stroke_id": 9, "first_frame": 0, "last_frame": 2, "length": 3, "split_from": 4},
    ]
    manifest = {"frame_size": {"width": 320, "height": 240}, "frames": entries, "tracks": tracks}
    (tmp_path / "lines.json").write_text(json.dumps(manifest))
    gt = tmp_path / "clip.gt.json"
    gt.write_text(json.dumps(truth))
    assert line_roots(tracks) == {9: 4}
    report = evaluate_identity(tmp_path, gt)
    # no single stroke covers half the line: strictly, it is never matched ...
    assert report["detected_share"] == 0.0 and report["kept_one_id_share"] == 0.0
    # ... but its two linked pieces are one line with one id throughout
    assert report["linked_pieces"]["detected_share"] == 1.0
    assert report["linked_pieces"]["kept_one_id_share"] == 1.0
    # without the link the pieces stay two lines of their own
    manifest["tracks"][1]["split_from"] = None
    (tmp_path / "lines.json").write_text(json.dumps(manifest))
    assert evaluate_identity(tmp_path, gt)["linked_pieces"]["detected_share"] == 0.0


def test_recovered_lines_are_vectorized_in_frame_coordinates():
    from talos.axis.context import FrameContextBuilder
    from talos.axis.io.output import OutputDir
    from talos.axis.steps import STEPS, BuildContext
    from talos.config import Settings

    step = STEPS.create("hysteresis", BuildContext(Settings(), OutputDir("unused")))
    shape = (120, 200)
    image = np.full((*shape, 3), 128, np.uint8)
    last = _line(20, 60, 180, 60)
    line_map = np.zeros(shape, np.uint8)
    line_map[60, 20:90] = 255  # this frame finds the left half ...
    weak = np.zeros(shape, bool)
    weak[60, 100:181] = True  # ... the right half is only a weak ridge
    flow = np.zeros((*shape, 2), np.float32)
    full = np.zeros(shape, np.uint8)
    full[60, 20:181] = 255
    nothing_weak = pack_mask(np.zeros(shape, bool))
    for index in (0, 1):  # the whole line, seen in two frames: a lasting line
        seen = FrameContextBuilder(index=index, time=index / 24, image=image, line_map=full)
        seen = seen.set(strokes=[last], flow=flow).add_extras(weak_edges=nothing_weak)
        step.process(seen.build())
    ctx = FrameContextBuilder(index=2, time=2 / 24, image=image, line_map=line_map, flow=flow)
    ctx = ctx.set(strokes=[_line(20, 60, 89, 60)]).add_extras(weak_edges=pack_mask(weak))
    out = step.process(ctx.build())
    (recovered,) = out.strokes[1:]
    pts = sample(recovered.control_points, 8)
    assert np.abs(pts[:, 1] - 60).max() < 1.0 and pts[:, 0].min() > 95 and pts[:, 0].max() > 175
    assert out.counts["recovered_strokes"] == 1 and out.line_map[60, 150] == 255


def test_tracking_off_is_a_per_frame_trace_without_hysteresis():
    from talos.axis.context import FrameContextBuilder
    from talos.axis.io.output import OutputDir
    from talos.axis.steps import STEPS, BuildContext
    from talos.config import Settings

    settings = Settings()
    off = settings.model_copy(
        update={"tracking": settings.tracking.model_copy(update={"enabled": False})}
    )
    build = BuildContext(off, OutputDir("unused"))
    assert STEPS.create("edges", build).weak_ratio == 0.0  # no weak candidates computed
    step = STEPS.create("hysteresis", build)
    shape = (60, 80)
    image = np.full((*shape, 3), 128, np.uint8)
    weak = np.zeros(shape, bool)
    weak[30, 10:70] = True
    flow = np.zeros((*shape, 2), np.float32)
    line_map = np.zeros(shape, np.uint8)
    first = FrameContextBuilder(index=0, time=0.0, image=image, line_map=line_map)
    step.process(first.set(strokes=[_line(10, 30, 70, 30)]).build())
    ctx = FrameContextBuilder(index=1, time=0.04, image=image, line_map=line_map, flow=flow)
    out = step.process(ctx.add_extras(weak_edges=pack_mask(weak)).build())
    assert out.strokes == ()


def test_a_ring_crossed_by_another_tracked_line_keeps_its_id_and_stays_closed():
    tracker = StrokeTracker()
    ring = _curve([[160, 60], [210, 120], [160, 180], [110, 120]], closed=True)
    line = _line(20, 120, 300, 120, n=12)
    for t in range(4):
        out = tracker.update([ring, line], None, t, SHAPE)
    id_ring, id_line = _ids_near(out, (160, 60)), _ids_near(out, (40, 120))
    assert len(id_ring) == len(id_line) == 1 and id_ring != id_line
    out = tracker.update([line, ring], None, 4, SHAPE)  # same lines, other order
    assert _ids_near(out, (160, 60)) == id_ring and _ids_near(out, (40, 120)) == id_line
    (kept,) = [s for s in out if s.stroke_id in id_ring]
    assert kept.closed


# ------------------------------------------------------------- re-identification


def _circle(cx: float, cy: float, r: float, extent: float = 360.0, n: int = 16) -> Stroke:
    """A circle of radius ``r`` about ``(cx, cy)``, or an open arc of ``extent`` degrees of it."""
    a = np.radians(np.linspace(0.0, extent, n, endpoint=extent < 360.0))
    return _curve(np.c_[cx + r * np.cos(a), cy + r * np.sin(a)].tolist(), closed=extent >= 360.0)


def test_a_line_that_went_behind_an_occluder_bit_by_bit_is_known_again_whole():
    tracker = StrokeTracker(max_lost=2)
    for t in range(4):
        (ring,) = tracker.update([_circle(160, 120, 30)], None, t, SHAPE)
    for t, extent in enumerate((250, 160, 90), start=4):  # covered from one side
        (sliver,) = tracker.update([_circle(160, 120, 30, extent)], None, t, SHAPE)
        assert sliver.stroke_id == ring.stroke_id
    for t in range(7, 13):  # hidden, for longer than max_lost
        tracker.update([], None, t, SHAPE)
    # Back whole: the last sliver, a quarter of it, would be too short a line to be it.
    (back,) = tracker.update([_circle(160, 120, 30)], None, 13, SHAPE)
    assert back.stroke_id == ring.stroke_id


def test_a_scrap_where_a_hidden_line_was_is_too_little_of_it_to_take_its_id():
    def comes_back(extent: float) -> bool:
        tracker = StrokeTracker(max_lost=1)
        for t in range(4):
            (ring,) = tracker.update([_circle(160, 120, 30)], None, t, SHAPE)
        for t in range(4, 8):
            tracker.update([], None, t, SHAPE)
        (back,) = tracker.update([_circle(160, 120, 30, extent)], None, 8, SHAPE)
        return back.stroke_id == ring.stroke_id

    assert comes_back(120)  # a third of the line: coming out from behind something
    assert not comes_back(36)  # a tenth: any line's scrap could lie there


def test_the_longer_a_line_was_hidden_the_farther_it_may_come_back():
    def comes_back(hidden: int) -> bool:
        tracker = StrokeTracker(max_lost=1, reid_px=48.0)
        for t in range(4):
            (first,) = tracker.update([_curve([[40, 60], [80, 40], [120, 70]])], None, t, SHAPE)
        for t in range(4, 4 + hidden):
            tracker.update([], None, t, SHAPE)
        # 86 px from where it was last: whatever hid it hid how it moved
        moved = _curve([[110, 110], [150, 90], [190, 120]])
        (back,) = tracker.update([moved], None, 4 + hidden, SHAPE)
        return back.stroke_id == first.stroke_id

    assert not comes_back(3)  # dormant a frame: within 48 px and a little more
    assert comes_back(14)  # dormant 11 frames: within 48 px and 11 eighths of it


def _arc_inside(cx: float, cy: float, r: float, right: float) -> Stroke:
    """The part of a circle about ``(cx, cy)`` left of ``x = right``: an open arc round its
    leftmost point (a ring coming into a frame over its right edge)."""
    half = np.degrees(np.arccos((right - cx) / r))
    a = np.radians(np.linspace(half, 360.0 - half, 12))
    return _curve(np.c_[cx + r * np.cos(a), cy + r * np.sin(a)].tolist())


@pytest.mark.parametrize("anchors", [reid_module.ANCHORS, 0])
def test_a_ring_that_left_the_frame_gets_its_id_back_as_it_comes_back_in(
    anchors: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out over the right edge for longer than ``max_lost``, then back in: its first part
    in the frame is its left side, which the prediction and the centres lay across the
    ring; aligned from points along the ring too, it is known at once. The same scrap
    inside the frame is not: only a line coming in over the edge is seen in part there."""
    monkeypatch.setattr(reid_module, "ANCHORS", anchors)

    def comes_back(shift: float) -> bool:
        tracker = StrokeTracker(max_lost=2)
        for t in range(4):
            (ring,) = tracker.update([_circle(292 - shift, 120, 24)], None, t, SHAPE)
        for t in range(4, 10):
            tracker.update([], None, t, SHAPE)
        scrap = _arc_inside(330 - shift, 124, 24, SHAPE[1] - 1 - shift)
        (back,) = tracker.update([scrap], None, 10, SHAPE)
        return back.stroke_id == ring.stroke_id

    assert comes_back(0.0) == (anchors > 0)
    assert not comes_back(80.0)


def _ring_run_into_line(radius: float) -> Stroke:
    """A ring about (100, 120) opened at its rightmost point, where a line going down from
    it touches it, and run straight on into that line: one stroke (the vectorizer's union
    of two outlines at a T-junction)."""
    a = np.radians(np.linspace(6.0, 360.0, 40))
    ring = np.c_[100 + radius * np.cos(a), 120 + radius * np.sin(a)]
    down = np.c_[np.full(12, 100.0 + radius), np.linspace(124.0, 230.0, 12)]
    return Stroke.from_polyline(np.vstack([ring, down]), 0)


def test_a_ring_the_vectorizer_runs_into_a_line_it_touches_stays_a_line_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def run() -> list[int]:
        tracker = StrokeTracker()
        ring, line = _circle(100, 120, 30), _line(130, 124, 130, 220)
        for t in range(4):
            out = tracker.update([ring, line], None, t, SHAPE)
        ids = _ids_near(out, (70, 120)) | _ids_near(out, (130, 200))
        assert len(ids) == 2
        counts = []
        for t in range(4, 10):  # opened where the line touches it, and run into the line
            out = tracker.update([_ring_run_into_line(30)], None, t, SHAPE)
            assert _ids_near(out, (70, 120)) <= ids and _ids_near(out, (130, 200)) <= ids
            counts.append(len(out))
        return counts

    # Its ends a few px apart, the opened ring has no end to run on from: two lines still.
    assert run() == [2] * 6
    # Taken for an open line, it merged into the line after three frames running.
    monkeypatch.setattr(tracker_module, "_loop", lambda line, step: line.closed)
    assert run()[-1] == 1


def test_a_line_back_from_behind_another_and_first_drawn_as_part_of_it_gets_its_id_back():
    tracker = StrokeTracker(max_lost=2)
    ring, line = _circle(100, 120, 12), _line(112, 124, 112, 230)
    for t in range(4):
        out = tracker.update([ring, line], None, t, SHAPE)
    (ring_id,), (line_id,) = _ids_near(out, (88, 120)), _ids_near(out, (112, 200))
    for t in range(4, 10):  # the ring hidden, longer than max_lost
        tracker.update([line], None, t, SHAPE)
    for t in range(10, 12):  # coming out, drawn as part of the line's stroke
        (joined,) = tracker.update([_ring_run_into_line(12)], None, t, SHAPE)
        assert joined.stroke_id == line_id
    # It breaks off the line's stroke: a piece of the line's track, and the dormant ring.
    out = tracker.update([ring, line], None, 12, SHAPE)
    assert _ids_near(out, (88, 120)) == {ring_id} and _ids_near(out, (112, 200)) == {line_id}


def test_a_live_line_its_prediction_lost_gets_its_id_back_but_not_another_shape():
    def back(shape: Stroke, at: tuple[float, float]) -> bool:
        tracker = StrokeTracker()  # max_lost 5: the line is still live after 2 frames
        a, b = _curve([[40, 60], [80, 40], [120, 70]]), _curve([[180, 150], [230, 120], [280, 160]])
        for t in range(4):
            out = tracker.update([a, b], None, t, SHAPE)
        (id_b,) = _ids_near(out, (230, 120))
        for t in range(4, 6):  # b not detected for two frames
            tracker.update([a], None, t, SHAPE)
        # back 30 px to the left: beyond the gate of its prediction (no flow moved it)
        out = tracker.update([a, shape], None, 6, SHAPE)
        return _ids_near(out, at) == {id_b}

    assert back(_curve([[150, 150], [200, 120], [250, 160]]), (200, 120))
    assert not back(_curve([[150, 150], [200, 185], [250, 150]]), (200, 185))


def test_a_small_line_its_prediction_lost_keeps_its_id_from_its_first_frames():
    """A dash (a pupil) 4 px from a long line (an eye's outline): the ICP correction lays
    the dash's prediction onto the long line, and the dash, moved 7 px, is claimed by no
    track. It is known by its shape however young its track, but only as far as its own
    length and the gate: 30 px off, a dash is another one (the other pupil)."""

    def comes_back(dx: float, dy: float) -> bool:
        tracker = StrokeTracker()
        outline = _line(60, 96, 200, 96, n=12)
        out = tracker.update([outline, _line(100, 100, 108, 100, n=3)], None, 0, SHAPE)
        (dash,) = _ids_near(out, (104, 100))
        moved = _line(100 + dx, 100 + dy, 108 + dx, 100 + dy, n=3)
        out = tracker.update([outline, moved], None, 1, SHAPE)
        assert _ids_near(out, (130, 96)) != {dash}  # the outline keeps its own id
        return _ids_near(out, (104 + dx, 100 + dy)) == {dash}

    assert comes_back(0.0, 7.0)
    assert not comes_back(30.0, 7.0)


def test_a_stroke_no_track_claims_goes_to_a_live_line_before_a_dormant_one():
    """Two like dashes: one hidden long enough to be dormant, the other lost this frame
    only. A dash that fits both (the same shape, each within reach) is the live one."""
    tracker = StrokeTracker(max_lost=2)
    outline = _line(60, 96, 200, 96, n=12)
    for t in range(4):
        out = tracker.update(
            [outline, _line(100, 100, 108, 100, n=3), _line(112, 110, 120, 110, n=3)],
            None,
            t,
            SHAPE,
        )
    (live,) = _ids_near(out, (104, 100))
    (hidden,) = _ids_near(out, (116, 110))
    for t in range(4, 8):  # the second dash hidden: dormant after max_lost frames
        out = tracker.update([outline, _line(100, 100, 108, 100, n=3)], None, t, SHAPE)
    assert _ids_near(out, (104, 100)) == {live}
    out = tracker.update([outline, _line(104, 107, 112, 107, n=3)], None, 8, SHAPE)
    assert _ids_near(out, (108, 107)) == {live}


def test_a_line_whose_prediction_only_a_scrap_lies_on_is_still_known_by_its_shape():
    tracker = StrokeTracker()
    a, b = _curve([[40, 60], [80, 40], [120, 70]]), _curve([[180, 150], [230, 120], [280, 160]])
    for t in range(4):
        out = tracker.update([a, b], None, t, SHAPE)
    (id_b,) = _ids_near(out, (230, 120))
    # b moved 30 px left (beyond its prediction's gate); a scrap of something else lies on
    # where it was predicted (a flow that followed an occluder puts it there)
    scrap = _line(262, 143, 275, 155, n=3)
    moved = _curve([[150, 150], [200, 120], [250, 160]])
    out = tracker.update([a, moved, scrap], None, 4, SHAPE)
    assert _ids_near(out, (200, 120)) == {id_b}
    assert _ids_near(out, (268, 149)) - {id_b}  # the scrap has an id of its own


def test_a_line_known_again_by_its_shape_is_not_also_given_to_the_scrap_on_it():
    tracker = StrokeTracker()
    a, b = _line(20, 40, 120, 40, n=8), _line(150, 150, 280, 150, n=10)
    for t in range(4):
        out = tracker.update([a, b], None, t, SHAPE)
    (id_b,) = _ids_near(out, (200, 150))
    back = _line(150, 120, 200, 120, n=5)  # a part of b, 30 px up: past its gate
    scrap = _line(240, 150, 265, 150, n=4)  # something else, on b's prediction
    out = tracker.update([a, back, scrap], None, 4, SHAPE)
    assert _ids_near(out, (175, 120)) == {id_b}
    # Against the short line b is now, the scrap is a third of it; it was not of the line
    # this frame was predicted, and it must not take the id a second time.
    ids = [s.stroke_id for s in out]
    assert len(ids) == len(set(ids)) == 3


def _disc_frame(inside: tuple[int, int, int]) -> np.ndarray:
    """A grey frame with a disc of colour ``inside`` (BGR), radius 20 at (160, 120)."""
    import cv2

    image = np.full((*SHAPE, 3), 120, np.uint8)
    cv2.circle(image, (160, 120), 20, inside, -1)
    return image


def test_a_returning_line_that_looks_different_either_side_is_another_line():
    white, black = (250, 250, 250), (15, 15, 15)

    def comes_back(inside: tuple[int, int, int]) -> bool:
        tracker = StrokeTracker(max_lost=1)
        eye = _disc_frame(white)
        for t in range(4):
            (first,) = tracker.update([_circle(160, 120, 20)], None, t, SHAPE, image=eye)
        for t in range(4, 9):
            tracker.update([], None, t, SHAPE, image=_disc_frame((120, 120, 120)))
        returning = _disc_frame(inside)
        (back,) = tracker.update([_circle(160, 120, 20)], None, 9, SHAPE, image=returning)
        return back.stroke_id == first.stroke_id

    assert comes_back(white)
    assert not comes_back(black)  # the same ring round a dark pupil: another line


def test_a_stroke_that_fits_two_parts_of_a_line_is_known_by_the_part_that_looks_the_same():
    """A straight line whose left part was dark-edged and right part light-edged; a short
    stroke, dark-edged, comes back on its right part. Laid where it lies, it fits but does
    not look the same; laid on the left part (centre on centre), it fits and does: it is
    that line, known by the cheapest alignment that also looks like it."""
    x = np.arange(0.0, 121.0, 2.0)
    line = np.c_[x, np.full_like(x, 100.0)]
    dark, light = [[50.0, 0.0, 0.0], [20.0, 0.0, 0.0]], [[50.0, 0.0, 0.0], [80.0, 0.0, 0.0]]
    look = np.array([dark if xi < 80 else light for xi in x], np.float32)
    pool = DormantTracks(reach=100.0)
    assert pool.add(Track(7, line, False, 0, 0, length=5, whole_look=look))
    stroke = np.c_[np.arange(90.0, 111.0, 2.0), np.full(11, 100.0)]
    stroke_look = np.array([dark] * len(stroke), np.float32)
    assert pool.best(pool.tracks, [0], stroke, False, stroke_look) == 0
    assert pool.best(pool.tracks, [0], stroke, False, np.array([light] * 11, np.float32)) == 0


def test_side_colours_read_each_side_of_a_line_and_a_line_traced_back_looks_the_same():
    import cv2

    image = np.zeros((*SHAPE, 3), np.uint8)
    image[:100] = (0, 0, 255)  # red above y = 100
    image[100:] = (255, 0, 0)  # blue below
    line = np.c_[np.linspace(50, 250, 41), np.full(41, 100.0)]
    colours = side_colours(image, np.vstack([line, line[::-1]]), np.repeat([0, 1], 41))
    red, blue = (
        cv2.cvtColor(np.float32([[c]]) / 255, cv2.COLOR_BGR2Lab)[0, 0]
        for c in ((0, 0, 255), (255, 0, 0))
    )
    assert colours.shape == (82, 2, 3)
    # left of a line running +x (y down) is above it
    assert np.allclose(colours[:41], [red, blue], atol=1.0)
    assert np.allclose(colours[41:], [blue, red], atol=1.0)
    assert look_difference(colours[:41], colours[41:][::-1]) < 1e-3
    assert look_difference(colours[:41], colours[:41][:, [1, 1]]) > 100  # blue both sides
    # along the top edge the side above is outside the image: unread
    edge = side_colours(image, np.c_[np.linspace(0, 50, 11), np.zeros(11)], np.zeros(11, int))
    assert np.isnan(edge[:, 0]).all() and not np.isnan(edge[:, 1]).any()
