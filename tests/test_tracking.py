"""StrokeTracker and smoothing on synthetic strokes with known motion."""

from __future__ import annotations

import numpy as np
import pytest

from talos.axis.strokes import Stroke
from talos.axis.tracking import StrokeTracker, TrackSmoother, delta_kappa

SHAPE = (240, 320)


def _flow(dx: float, dy: float) -> np.ndarray:
    flow = np.empty((*SHAPE, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def _arc(cx: float, cy: float, r: float, a0: float = 0.0, a1: float = 3.0, sid: int = 0) -> Stroke:
    a = np.linspace(a0, a1, 12)
    return Stroke.from_polyline(np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1), sid)


def _segment(x0: float, y0: float, x1: float, y1: float, sid: int = 0) -> Stroke:
    return Stroke.from_polyline(np.array([[x0, y0], [x1, y1]]), sid)


def _scene(t: int) -> list[Stroke]:
    """Three lines moving 6 px/frame right, shuffled so per-frame order says nothing."""
    strokes = [
        _arc(60 + 6 * t, 60, 25, sid=0),
        _segment(40 + 6 * t, 150, 120 + 6 * t, 170, sid=1),
        _arc(200 + 6 * t, 120, 15, 0, 6.0, sid=2),
    ]
    order = np.random.default_rng(t).permutation(3)
    return [strokes[i].evolve(stroke_id=k) for k, i in enumerate(order)]


def _ids_by_position(strokes: list[Stroke]) -> list[int]:
    """Ids sorted by the stroke's first knot (x, then y), to compare frames."""
    keyed = sorted(strokes, key=lambda s: (round(s.knots[:, 1].mean()), s.knots[:, 0].mean()))
    return [s.stroke_id for s in keyed]


def test_moving_lines_keep_their_ids_with_flow():
    tracker = StrokeTracker(gate_px=8)
    first = tracker.update(_scene(0), None, 0, SHAPE)
    expected = _ids_by_position(first)
    for t in range(1, 8):
        out = tracker.update(_scene(t), _flow(6, 0), t, SHAPE)
        assert _ids_by_position(out) == expected
    table = tracker.table()
    assert [row["length"] for row in table] == [8, 8, 8]
    assert all(row["first_frame"] == 0 and row["last_frame"] == 7 for row in table)


def test_without_flow_fast_motion_beyond_the_gate_gives_new_ids():
    # The flow matters: the same motion without it exceeds the gate, and the reach of the
    # shape test (reid_px), and ids are reborn.
    arcs = [_arc(60, 60, 25), _arc(200, 120, 15, 0, 6.0)]
    tracker = StrokeTracker(gate_px=3)
    tracker.update(arcs, None, 0, SHAPE)
    moved = [s.evolve(control_points=s.control_points + [60, 0]) for s in arcs]
    out = tracker.update(moved, None, 1, SHAPE)
    assert sorted(s.stroke_id for s in out) == [2, 3]
    out = tracker.update(arcs, _flow(-60, 0), 2, SHAPE)
    assert sorted(s.stroke_id for s in out) == [2, 3]
    # Within that reach, a line the gate lost is known again by its shape.
    tracker = StrokeTracker(gate_px=3)
    tracker.update(arcs, None, 0, SHAPE)
    moved = [s.evolve(control_points=s.control_points + [8, 0]) for s in arcs]
    assert sorted(s.stroke_id for s in tracker.update(moved, None, 1, SHAPE)) == [0, 1]


def test_births_occlusion_and_death():
    # Without re-identification (its own tests: test_track_pieces), a line lost for longer
    # than max_lost is gone for good.
    tracker = StrokeTracker(gate_px=8, max_lost=2, reid_frames=0)
    a, b = _arc(80, 80, 30), _segment(180, 40, 280, 60)
    ids0 = {s.stroke_id for s in tracker.update([a, b], None, 0, SHAPE)}
    # b hidden for 2 frames (occlusion), then back: same id.
    tracker.update([a], None, 1, SHAPE)
    tracker.update([a], None, 2, SHAPE)
    out = tracker.update([a, b], None, 3, SHAPE)
    assert {s.stroke_id for s in out} == ids0
    # hidden for 3 frames > max_lost: its id dies, it comes back as a new line.
    for t in range(4, 7):
        tracker.update([a], None, t, SHAPE)
    out = tracker.update([a, b], None, 7, SHAPE)
    new_ids = {s.stroke_id for s in out}
    assert len(new_ids & ids0) == 1 and max(new_ids) == 2
    # a newly appearing line is born with a fresh id.
    out = tracker.update([a, b, _segment(20, 200, 100, 210)], None, 8, SHAPE)
    assert sorted(s.stroke_id for s in out)[-1] == 3
    rows = {r["stroke_id"]: r for r in tracker.table()}
    assert rows[1]["length"] == 2 and rows[1]["last_frame"] == 3


def test_split_keeps_the_id_on_the_main_piece_and_the_merge_keeps_it():
    tracker = StrokeTracker(gate_px=8)
    (whole,) = tracker.update([_segment(20, 100, 300, 100)], None, 0, SHAPE)
    main, small = _segment(20, 100, 210, 100, sid=0), _segment(225, 100, 300, 100, sid=1)
    out = tracker.update([small, main], None, 1, SHAPE)
    by_len = sorted(out, key=lambda s: s.knots[-1, 0] - s.knots[0, 0])
    assert by_len[-1].stroke_id == whole.stroke_id and by_len[0].stroke_id != whole.stroke_id
    # The pieces merge again: the merged line keeps the line's id.
    (merged,) = tracker.update([_segment(20, 100, 300, 100)], None, 2, SHAPE)
    assert merged.stroke_id == whole.stroke_id


def _bezier_arc(r: float, sid: int) -> Stroke:
    """A quarter circle of radius r as one cubic (handle length 4/3·tan(π/8)·r)."""
    k = 4.0 / 3.0 * np.tan(np.pi / 8) * r
    cp = np.array([[r, 0], [r, k], [k, r], [0, r]]) + 100
    return Stroke(stroke_id=sid, control_points=cp, pressure=np.ones(2))


def test_delta_kappa_compares_ids_present_in_both_frames():
    a = _bezier_arc(20, sid=1)
    b = _bezier_arc(40, sid=2)
    mean, kappa = delta_kappa({}, [a, b])
    assert mean is None and kappa[1] == pytest.approx(1 / 20, rel=0.05)
    mean, _ = delta_kappa(kappa, [_bezier_arc(25, sid=1), _bezier_arc(5, sid=7)])
    assert mean == pytest.approx(1 / 20 - 1 / 25, rel=0.1)


def _jittery(t: int, rng: np.random.Generator, speed: float) -> Stroke:
    x = np.linspace(40, 200, 9) + speed * t
    y = 100 + 10 * np.sin(x / 30.0 - speed * t / 30.0) + rng.normal(0, 0.6, 9)
    return Stroke.from_polyline(np.stack([x, y], 1), 5)


def _clean(t: int, speed: float) -> np.ndarray:
    x = np.linspace(40, 200, 9) + speed * t
    return np.stack([x, 100 + 10 * np.sin(x / 30.0 - speed * t / 30.0)], 1)


@pytest.mark.parametrize("speed", [0.0, 25.0])
def test_smoothing_removes_jitter_without_lag(speed):
    rng = np.random.default_rng(1)
    smoother = TrackSmoother(window=3, max_px=2.0)
    raw_err, smooth_err = [], []
    for t in range(30):
        stroke = _jittery(t, rng, speed)
        (out,) = smoother.update([stroke], _flow(speed, 0) if t else None)
        if t >= 5:
            raw_err.append(np.abs(stroke.knots[:, 1] - _clean(t, speed)[:, 1]).mean())
            smooth_err.append(np.abs(out.knots[:, 1] - _clean(t, speed)[:, 1]).mean())
            # No lag: the smoothed stroke stays where the line is, even at 25 px/frame.
            assert np.abs(out.knots[:, 0] - _clean(t, speed)[:, 0]).max() < 1.0
    assert np.mean(smooth_err) < 0.8 * np.mean(raw_err)


def test_empty_frames_pass_through_tracker_and_smoother():
    tracker, smoother = StrokeTracker(), TrackSmoother()
    for t in range(3):
        strokes = [] if t == 1 else [_arc(80, 80, 30)]
        out = tracker.update(strokes, None, t, SHAPE)
        assert len(smoother.update(out, None)) == len(strokes)
    assert [row["length"] for row in tracker.table()] == [2]


def _foreground_step():
    from talos.axis.io.output import OutputDir
    from talos.axis.steps import STEPS, BuildContext
    from talos.config import Settings

    return STEPS.create("foreground", BuildContext(Settings(), OutputDir("unused")))


def test_foreground_mask_from_motion_the_camera_does_not_explain():
    from talos.axis.context import FrameContextBuilder

    flow = _flow(3.0, -1.0)  # the camera pans ...
    flow[100:140, 200:260] = (9.0, 2.0)  # ... and one object moves on its own
    noise = np.random.default_rng(0).normal(0, 0.05, flow.shape).astype(np.float32)
    ctx = FrameContextBuilder(index=1, time=0.0, image=np.zeros((*SHAPE, 3), np.uint8))
    ctx = _foreground_step().process(ctx.set(flow=flow + noise).build())
    mask = ctx.extras["foreground_mask"]
    assert mask[120, 230] and not mask[20, 20] and not mask[200, 100]
    assert 0.02 < mask.mean() < 0.05


def test_foreground_mask_from_depth_and_none_without_information():
    from talos.axis.context import FrameContextBuilder

    depth = np.full(SHAPE, 30.0, np.float32)
    depth[50:120, 60:160] = 2.0  # a near object
    image = np.zeros((*SHAPE, 3), np.uint8)
    step = _foreground_step()
    ctx = step.process(FrameContextBuilder(index=0, time=0.0, image=image, depth=depth).build())
    mask = ctx.extras["foreground_mask"]
    assert mask[80, 100] and not mask[200, 300]
    planar = np.broadcast_to(np.float32(10.0), SHAPE)
    ctx = step.process(FrameContextBuilder(index=0, time=0.0, image=image, depth=planar).build())
    assert "foreground_mask" not in ctx.extras


def test_smoothing_keeps_stored_curvature_in_step_with_the_curve():
    from talos.axis.geometry.bezier import knot_curvature, mean_abs_curvature

    smoother = TrackSmoother(window=5, max_px=3.0)
    rng = np.random.default_rng(2)
    for t in range(4):
        stroke = _jittery(t, rng, 0.0)
        cp = stroke.control_points
        stroke = stroke.evolve(curvature=knot_curvature(cp), curvature_mean=mean_abs_curvature(cp))
        (out,) = smoother.update([stroke], None)
    assert not np.allclose(out.control_points, stroke.control_points)  # it was smoothed
    assert out.curvature_mean == pytest.approx(mean_abs_curvature(out.control_points))
    np.testing.assert_allclose(out.curvature, knot_curvature(out.control_points), rtol=1e-5)
