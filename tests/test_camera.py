from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from talos.axis.geometry.camera import (
    CameraError,
    Pose,
    camera_to_world,
    extrinsics_from_shot,
    intrinsics_from_shot,
    lift,
    pose_at,
    project,
    sample_depth,
)
from talos.axis.reprojection import reproject_stroke
from talos.axis.strokes import Stroke

W, H = 640, 360
K = np.array([[500.0, 0, 320], [0, 500.0, 180], [0, 0, 1]])


def _pose(rotvec: list[float], t: list[float]) -> Pose:
    return Pose(Rotation.from_rotvec(rotvec).as_matrix(), np.asarray(t, dtype=float))


@settings(max_examples=60, deadline=None)
@given(
    u=st.floats(0, W),
    v=st.floats(0, H),
    depth=st.floats(0.1, 1000),
    rot=st.lists(st.floats(-1, 1), min_size=3, max_size=3),
    t=st.lists(st.floats(-5, 5), min_size=3, max_size=3),
    f=st.floats(100, 3000),
)
def test_back_projection_then_projection_is_identity(u, v, depth, rot, t, f):
    k = np.array([[f, 0, W / 2], [0, 1.1 * f, H / 2], [0, 0, 1]])
    pose = _pose(rot, t)
    uv = np.array([[u, v]])
    world = camera_to_world(lift(uv, np.array([depth]), k), pose)
    np.testing.assert_allclose(project(world, k, pose), uv, atol=1e-6)


def _plane_depth(k: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """Depth map of the plane n·X = offset seen by a camera at the origin."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    rays = np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(k).T
    return (offset / (rays @ normal)).astype(np.float32)


def test_rigid_camera_move_reprojects_a_3d_line_within_half_a_pixel():
    # A 3D curve on a tilted plane, seen by camera 0 (identity pose) through a depth map.
    normal = np.array([0.1, -0.2, 1.0])
    s = np.linspace(-1.5, 1.5, 13)
    line = np.stack([s, 0.4 * np.sin(2 * s), np.zeros_like(s)], 1)
    line[:, 2] = (8.0 - line[:, :2] @ normal[:2]) / normal[2]  # on the plane n·X = 8
    depth = _plane_depth(K, normal, 8.0)
    uv0 = project(line, K)
    stroke = Stroke.from_polyline(uv0, stroke_id=1)

    lifted = lift(stroke.knots, sample_depth(depth, stroke.knots), K)
    moved = reproject_stroke(
        stroke.evolve(points_3d=lifted),
        K,
        Pose.identity(),
        _pose([0.02, -0.05, 0.01], [0.3, -0.1, 0.5]),
    )
    expected = project(line, K, _pose([0.02, -0.05, 0.01], [0.3, -0.1, 0.5]))
    assert np.abs(moved.knots - expected).max() < 0.5
    assert np.abs(moved.knots - uv0).max() > 5  # the move is not trivial


def test_intrinsics_from_fov_and_rescaled_shot_matrix():
    k = intrinsics_from_shot({}, 1920, 1080, fov_deg=90.0)
    assert k[0, 0] == pytest.approx(960.0) and k[0, 2] == 960 and k[1, 2] == 540
    shot = {
        "resolution": {"width": 1920, "height": 1080},
        "camera": {"intrinsics": [[1029.4, 0, 960], [0, 1029.4, 540], [0, 0, 1]]},
    }
    k = intrinsics_from_shot(shot, 960, 540)
    assert k[0, 0] == pytest.approx(514.7) and k[1, 2] == pytest.approx(270)


def test_pose_between_given_frames_is_interpolated():
    shot = {
        "camera": {
            "extrinsics": [
                {"frame": 0, "R": np.eye(3).tolist(), "t": [0, 0, 0]},
                {
                    "frame": 10,
                    "R": Rotation.from_rotvec([0, 0.2, 0]).as_matrix().tolist(),
                    "t": [1, 0, 0],
                },
            ]
        }
    }
    poses = extrinsics_from_shot(shot)
    mid = pose_at(poses, 5)
    assert mid.t[0] == pytest.approx(0.5)
    assert Rotation.from_matrix(mid.R).magnitude() == pytest.approx(0.1)
    assert pose_at(poses, 99).t[0] == 1.0


@pytest.mark.parametrize(
    ("camera", "needle"),
    [
        ({"intrinsics": [[1, 0], [0, 1]]}, "shape (3, 3)"),
        ({"intrinsics": [[500, 0, 1], [0, 0, 1], [0, 0, 1]]}, "focal lengths"),
        ({"intrinsics": [[500, 0, 1], [0, 500, 1], [0, 0, 0]]}, "last row"),
        ({"intrinsics": [[500, 0, 1], [0, float("nan"), 1], [0, 0, 1]]}, "NaN"),
        ({"intrinsics": "wide"}, "camera.intrinsics"),
        ({"fov_deg": 200}, "fov_deg"),
        (
            {"extrinsics": [{"frame": 0, "R": [[2, 0, 0], [0, 1, 0], [0, 0, 1]], "t": [0, 0, 0]}]},
            "not a rotation",
        ),
        (
            {"extrinsics": [{"frame": 0, "R": [[1, 0, 0], [0, 1, 0], [0, 0, -1]], "t": [0, 0, 0]}]},
            "not a rotation",
        ),
        ({"extrinsics": [{"frame": 0, "R": np.eye(3).tolist(), "t": [0, 0]}]}, "extrinsics[0].t"),
        ({"extrinsics": [{"frame": -1, "R": np.eye(3).tolist(), "t": [0, 0, 0]}]}, "frame"),
        ({"extrinsics": [{"R": np.eye(3).tolist(), "t": [0, 0, 0]}]}, "frame, R and t"),
        ({"extrinsics": {"frame": 0}}, "list"),
    ],
)
def test_bad_cameras_raise_clear_errors(camera, needle):
    with pytest.raises(CameraError, match=None) as info:
        intrinsics_from_shot({"camera": camera}, W, H)
        extrinsics_from_shot({"camera": camera})
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_singular_intrinsics_and_duplicate_frames_are_rejected():
    with pytest.raises(CameraError, match="singular"):
        intrinsics_from_shot(
            {"camera": {"intrinsics": [[1e-6, 0, 0], [0, 1e-6, 0], [0, 0, 1]]}}, W, H
        )
    pose = {"frame": 3, "R": np.eye(3).tolist(), "t": [0, 0, 0]}
    with pytest.raises(CameraError, match="given twice"):
        extrinsics_from_shot({"camera": {"extrinsics": [pose, pose]}})


def test_points_behind_the_camera_do_not_project_silently():
    assert np.isnan(project(np.array([[0.0, 0.0, -1.0]]), K)).all()
    stroke = Stroke.from_polyline(np.array([[300.0, 180.0], [340.0, 180.0]]), 1)
    stroke = stroke.evolve(points_3d=lift(stroke.knots, np.array([2.0, 2.0]), K))
    with pytest.raises(CameraError, match="behind the camera"):
        reproject_stroke(stroke, K, Pose.identity(), Pose(np.eye(3), np.array([0, 0, -5.0])))
    with pytest.raises(CameraError, match="points_3d"):
        reproject_stroke(stroke.evolve(points_3d=None), K, Pose.identity(), Pose.identity())
