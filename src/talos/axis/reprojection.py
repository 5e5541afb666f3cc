"""Traced strokes re-projected under another camera: a shot's camera move re-projects the
lines lifted to 3D (the ``lift`` step's ``points_3d``) instead of re-drawing them.

The camera itself (intrinsics, poses, lifting and projection of points) is
:mod:`talos.axis.geometry.camera`; this module applies it to :class:`Stroke` objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from talos.axis.geometry.camera import (
    CameraError,
    Pose,
    camera_to_world,
    extrinsics_from_shot,
    intrinsics_from_shot,
    lift,
    pose_at,
    project,
    world_to_camera,
)
from talos.axis.strokes import Stroke


def reproject_stroke(stroke: Stroke, K: np.ndarray, source: Pose, target: Pose) -> Stroke:
    """The stroke as the camera at ``target`` sees it, from its world ``points_3d`` (lifted
    under ``source``). Knots move exactly; inner control points are lifted with depths
    interpolated between their knots (1/3, 2/3), so the curve re-projects, not re-draws."""
    if stroke.points_3d is None:
        raise CameraError(f"stroke {stroke.stroke_id} has no points_3d: run the lift step first")
    knot_depth = world_to_camera(stroke.points_3d, source)[:, 2]
    a, b = knot_depth[:-1], knot_depth[1:]
    depth = np.empty(len(stroke.control_points))
    depth[0::3] = knot_depth
    depth[1::3] = a + (b - a) / 3.0
    depth[2::3] = a + 2.0 * (b - a) / 3.0
    world = camera_to_world(lift(stroke.control_points, depth, K), source)
    world[0::3] = stroke.points_3d
    uv = project(world, K, target)
    if not np.isfinite(uv).all():
        raise CameraError(f"stroke {stroke.stroke_id} falls behind the camera after the move")
    return stroke.evolve(control_points=uv.astype(np.float32))


def camera_move(
    strokes: Sequence[Stroke],
    shot: Mapping[str, Any],
    width: int,
    height: int,
    source_frame: int,
    target_frame: int,
    fov_deg: float = 50.0,
) -> list[Stroke]:
    """Strokes traced (and lifted) at ``source_frame`` as the shot's camera sees them at
    ``target_frame``: the shot spec's move re-projects the 3D lines instead of re-drawing."""
    K = intrinsics_from_shot(shot, width, height, fov_deg)
    poses = extrinsics_from_shot(shot)
    source, target = pose_at(poses, source_frame), pose_at(poses, target_frame)
    return [reproject_stroke(s, K, source, target) for s in strokes]
