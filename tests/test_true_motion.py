"""True motion from a generated clip's poses (talos.axis.evaluation.motion): a point moves
with the nearest true line, else with the camera; the truth moved so lands on the next
frame's truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from talos.axis.evaluation.boundaries import BoundaryCounts, boundary_counts, draw_polylines
from talos.axis.evaluation.flow_maps import move_polylines_by
from talos.axis.evaluation.motion import (
    MotionError,
    frame_poses,
    motion_field,
    true_motion,
    truth_polylines,
)
from talos.axis.io.scenes import generate_scene


def _toy_truth() -> dict:
    """100 x 80 px: line 0 horizontal at y = 20 moving right 5 px, line 1 vertical at x = 30
    moving down 3 px, the camera panning left 2 px, over one frame pair."""
    unit = [[-1.0, 0.0], [1.0, 0.0]]
    lines = [
        {"id": 0, "kind": "line", "width": 2.0, "closed": False, "unit": unit},
        {"id": 1, "kind": "line", "width": 2.0, "closed": False, "unit": unit},
    ]
    poses = [
        {"0": [40, 0, 50, 0, 40, 20], "1": [0, -15, 30, 15, 0, 55]},
        {"0": [40, 0, 55, 0, 40, 20], "1": [0, -15, 30, 15, 0, 58]},
    ]
    cameras = [[1, 0, 0, 0, 1, 0], [1, 0, -2, 0, 1, 0]]
    frames = []
    for i in range(2):
        entries = []
        for line in lines:
            pose = np.array(poses[i][str(line["id"])], float).reshape(2, 3)
            pts = np.array(unit) @ pose[:, :2].T + pose[:, 2]
            entries.append({"id": line["id"], "closed": False, "points": pts.tolist()})
        frames.append({"index": i, "lines": entries, "poses": poses[i], "camera": cameras[i]})
    return {"width": 100, "height": 80, "fps": 24, "frames": 2, "lines": lines,
            "frame_truth": frames}  # fmt: skip


def test_points_move_with_the_nearest_line_or_the_camera():
    gt = _toy_truth()
    points = np.array([[50.0, 21.0], [30.0, 55.0], [31.5, 45.0], [80.0, 70.0], [-5.0, 3.0]])
    moved = true_motion(gt, 0, 1, points)
    expected = [[55.0, 21.0], [30.0, 58.0], [31.5, 48.0], [78.0, 70.0], [-7.0, 3.0]]
    np.testing.assert_allclose(moved, expected, atol=1e-9)
    # the radius decides what is near: at 0.5 px only points on a line follow it
    np.testing.assert_allclose(true_motion(gt, 0, 1, points[:1], radius_px=0.5), [[48.0, 21.0]])
    # backwards is the inverse motion
    np.testing.assert_allclose(true_motion(gt, 1, 0, [[55.0, 20.0]]), [[50.0, 20.0]])


def test_true_motion_at_another_size_scales_points_and_motion():
    gt = _toy_truth()
    big = true_motion(gt, 0, 1, np.array([[100.0, 42.0], [160.0, 140.0]]), shape=(160, 200))
    np.testing.assert_allclose(big, [[110.0, 42.0], [156.0, 140.0]], atol=1e-9)
    field = motion_field(gt, 0, 1, shape=(160, 200))
    assert field.slot.shape == (160, 200) and len(field.maps) == 3  # camera + two lines
    (line, closed), _ = truth_polylines(gt, 0, (160, 200))
    assert not closed
    np.testing.assert_allclose(line, [[20.0, 40.0], [180.0, 40.0]])


def test_bad_truth_is_a_clear_error():
    gt = _toy_truth()
    with pytest.raises(MotionError, match="frame index 2 outside"):
        true_motion(gt, 0, 2, np.zeros((1, 2)))
    with pytest.raises(MotionError, match="radius"):
        motion_field(gt, 0, 1, radius_px=-1)
    old = json.loads(json.dumps(gt))
    for frame in old["frame_truth"]:
        del frame["poses"]
    with pytest.raises(MotionError, match="no poses .* generate the clip again"):
        frame_poses(old, 0)
    del gt["frame_truth"][1]["poses"]["1"]
    with pytest.raises(MotionError, match="no pose for line 1"):
        motion_field(gt, 0, 1)
    gt["frame_truth"][1]["camera"] = [1, 0, 0]
    with pytest.raises(MotionError, match="camera"):
        frame_poses(gt, 1)
    gt = _toy_truth()
    gt["frame_truth"][0]["poses"]["0"] = [0, 0, 50, 0, 0, 20]  # a line squashed to a point
    with pytest.raises(MotionError, match="not invertible"):
        motion_field(gt, 0, 1)


def truth_moved_by_true_motion(
    truth: dict, shape: tuple[int, int] | None = None, step: int = 1
) -> float:
    """Temporal F (2 px) of each frame's true lines moved by the true motion onto those of
    the frame ``step`` later, over the clip."""
    shape = shape or (truth["height"], truth["width"])
    total = BoundaryCounts()
    for i in range(step, truth["frames"]):
        field = motion_field(truth, i - step, i, shape)
        moved = move_polylines_by(truth_polylines(truth, i - step, shape), field.move)
        current = draw_polylines(shape, truth_polylines(truth, i, shape))
        (counts,) = boundary_counts(draw_polylines(shape, moved), current, [2.0])
        total += counts
    return total.f_score


@pytest.mark.parametrize("scene", ["realistic", "cel", "tangle"])
def test_the_truth_moved_by_the_true_motion_is_the_next_truth(tmp_path: Path, scene):
    gt = generate_scene(tmp_path / f"{scene}.mp4", scene, 320, 180, frames=12, seed=4)
    truth = json.loads(gt.read_text())
    assert truth_moved_by_true_motion(truth) >= 0.99
    assert truth_moved_by_true_motion(truth, (360, 640)) >= 0.99
    assert truth_moved_by_true_motion(truth, step=4) >= 0.97  # any two frames
    # a pure camera motion is not enough: the lines move on their own
    still = json.loads(gt.read_text())
    for frame in still["frame_truth"]:
        frame["poses"] = {k: frame["camera"] for k in frame["poses"]}
    assert truth_moved_by_true_motion(still, step=4) < 0.9
