"""Pinhole camera: intrinsics and extrinsics from the shot spec, lifting and projection.

Conventions (HELPERS "cut_spec.json"): pixel ``(u, v)``, x right, y down; ``K`` is the 3×3
intrinsic matrix; a pose ``(R, t)`` maps world to camera, ``x_cam = R·X + t``; depth ``D`` is
the camera-space ``z`` of a point. Lifting is ``x_cam = D(u, v) · K⁻¹ [u, v, 1]ᵀ`` and
projection ``Π(X) = K [R | t] X`` followed by division by ``z``.

Bad cameras raise :class:`CameraError` with one line that says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from talos.axis.errors import InputError
from talos.axis.geometry.sampling import sample_bilinear
from talos.contracts.camera import default_intrinsics


class CameraError(InputError):
    """The shot spec's camera (intrinsics, extrinsics) is malformed or not physical."""


@dataclass(frozen=True)
class Pose:
    """World → camera: ``x_cam = R @ X + t``; ``R`` ``(3, 3)`` rotation, ``t`` ``(3,)``."""

    R: npt.NDArray[np.float64]
    t: npt.NDArray[np.float64]

    @staticmethod
    def identity() -> Pose:
        return Pose(np.eye(3), np.zeros(3))


def _matrix(value: Any, shape: tuple[int, ...], what: str) -> npt.NDArray[np.float64]:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CameraError(f"{what} must be numbers of shape {shape}, got {value!r}") from None
    if array.shape != shape:
        raise CameraError(f"{what} must have shape {shape}, got {array.shape}")
    if not np.isfinite(array).all():
        raise CameraError(f"{what} has NaN or infinite entries")
    return array


def validate_intrinsics(value: Any, what: str = "camera.intrinsics") -> np.ndarray:
    """A checked ``(3, 3)`` K: finite, ``fx, fy > 0``, last row ``[0, 0, 1]``, invertible."""
    K = _matrix(value, (3, 3), what)
    if not np.allclose(K[2], [0.0, 0.0, 1.0], atol=1e-6):
        raise CameraError(f"{what}: last row must be [0, 0, 1], got {K[2].tolist()}")
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise CameraError(f"{what}: focal lengths must be > 0, got {K[0, 0]}, {K[1, 1]}")
    if abs(np.linalg.det(K)) < 1e-9:
        raise CameraError(f"{what} is singular")
    return K


def validate_rotation(value: Any, what: str = "R") -> npt.NDArray[np.float64]:
    """A checked ``(3, 3)`` rotation: ``R Rᵀ = I`` and ``det R = +1`` (to 1e-3)."""
    R = _matrix(value, (3, 3), what)
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-3) or abs(np.linalg.det(R) - 1.0) > 1e-3:
        raise CameraError(f"{what} is not a rotation matrix (needs R·Rᵀ = I, det R = 1)")
    return R


def intrinsics_from_shot(
    shot: Mapping[str, Any], width: int, height: int, fov_deg: float = 50.0
) -> np.ndarray:
    """K for frames of ``width × height`` px.

    Uses ``camera.intrinsics`` when given (rescaled when the shot's ``resolution`` differs from
    the processing size), else ``camera.fov_deg`` (or ``fov_deg``) with the principal point at
    the centre.
    """
    camera = shot.get("camera") or {}
    if not isinstance(camera, Mapping):
        raise CameraError(f"shot camera must be an object, got {type(camera).__name__}")
    if camera.get("intrinsics") is not None:
        K = validate_intrinsics(camera["intrinsics"]).copy()
        resolution = shot.get("resolution") or {}
        if resolution.get("width") and resolution.get("height"):
            sx, sy = width / float(resolution["width"]), height / float(resolution["height"])
            K[0] *= sx
            K[1] *= sy
        return K
    fov = camera.get("fov_deg", fov_deg)
    if not isinstance(fov, int | float) or not 0 < fov < 180:
        raise CameraError(f"camera.fov_deg must be a number in (0, 180), got {fov!r}")
    return np.asarray(default_intrinsics(width, height, float(fov)), dtype=np.float64)


def extrinsics_from_shot(shot: Mapping[str, Any]) -> dict[int, Pose]:
    """The shot's per-frame poses ``{frame: Pose}`` (empty when it gives none)."""
    camera = shot.get("camera") or {}
    entries = camera.get("extrinsics") if isinstance(camera, Mapping) else None
    if entries is None:
        return {}
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise CameraError("camera.extrinsics must be a list of {frame, R, t}")
    poses: dict[int, Pose] = {}
    for i, entry in enumerate(entries):
        what = f"camera.extrinsics[{i}]"
        if not isinstance(entry, Mapping) or not {"frame", "R", "t"} <= set(entry):
            raise CameraError(f"{what} must be an object with frame, R and t")
        frame = entry["frame"]
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
            raise CameraError(f"{what}.frame must be an integer >= 0, got {frame!r}")
        if frame in poses:
            raise CameraError(f"{what}: frame {frame} is given twice")
        R = validate_rotation(entry["R"], f"{what}.R")
        t = _matrix(entry["t"], (3,), f"{what}.t")
        poses[frame] = Pose(R, t)
    return poses


def pose_at(poses: Mapping[int, Pose], frame: int) -> Pose:
    """The pose at ``frame``: given, interpolated between the nearest given frames (slerp on
    R, linear on t), or held from the nearest end. Identity when there are none."""
    if not poses:
        return Pose.identity()
    if frame in poses:
        return poses[frame]
    frames = sorted(poses)
    if frame <= frames[0]:
        return poses[frames[0]]
    if frame >= frames[-1]:
        return poses[frames[-1]]
    from scipy.spatial.transform import Rotation, Slerp

    hi = next(f for f in frames if f > frame)
    lo = max(f for f in frames if f < frame)
    w = (frame - lo) / (hi - lo)
    slerp = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([poses[lo].R, poses[hi].R])))
    R = slerp([w]).as_matrix()[0]
    return Pose(R, (1 - w) * poses[lo].t + w * poses[hi].t)


def sample_depth(depth: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear depth at pixel positions ``uv`` ``(N, 2)`` → ``(N,)`` (edges clamped)."""
    uv = np.asarray(uv, dtype=np.float32).reshape(-1, 2)
    if depth.strides == (0, 0):  # constant (planar) depth
        return np.full(len(uv), depth.flat[0], np.float32)
    return sample_bilinear(depth, uv)


def lift(uv: np.ndarray, depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Back-project pixels ``uv`` ``(N, 2)`` with depths ``(N,)``: camera points ``(N, 3)``,
    ``x_cam = D · K⁻¹ [u, v, 1]ᵀ``."""
    uv = np.asarray(uv, dtype=np.float64)
    rays = np.column_stack([uv, np.ones(len(uv))]) @ np.linalg.inv(K).T
    return rays * np.asarray(depth, dtype=np.float64)[:, None]


def camera_to_world(points: np.ndarray, pose: Pose) -> np.ndarray:
    """``X = Rᵀ (x_cam − t)`` for ``(N, 3)`` camera points."""
    return (np.asarray(points, dtype=np.float64) - pose.t) @ pose.R


def world_to_camera(points: np.ndarray, pose: Pose) -> np.ndarray:
    """``x_cam = R X + t`` for ``(N, 3)`` world points."""
    return np.asarray(points, dtype=np.float64) @ pose.R.T + pose.t


def project(points: np.ndarray, K: np.ndarray, pose: Pose | None = None) -> np.ndarray:
    """``Π(X) = K [R | t] X`` then divide by z: ``(N, 3)`` world points → ``(N, 2)`` px.
    Points at or behind the camera (z ≤ 0) give NaN."""
    cam = world_to_camera(points, pose) if pose is not None else np.asarray(points, np.float64)
    hom = cam @ np.asarray(K, dtype=np.float64).T
    z = hom[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = hom[:, :2] / z
    uv[(z[:, 0] <= 1e-12)] = np.nan
    return uv


def reprojection_error(
    uv: np.ndarray, points: np.ndarray, K: np.ndarray, pose: Pose | None = None
) -> float:
    """Mean distance in px between pixels ``uv`` ``(N, 2)`` and ``Π(points)``."""
    if len(uv) == 0:
        return 0.0
    return float(np.mean(np.linalg.norm(project(points, K, pose) - uv, axis=1)))
