"""True motion: where a generated clip's ground truth says a point of frame ``i`` is in frame ``j``.

A generated clip's ground truth (:mod:`talos.axis.io.scenes`, :mod:`talos.axis.io.sample`)
gives, per frame, every line's *pose* ``P``: the affine map from the line's own unit
coordinates to frame px (``poses``), and the camera's map ``C`` from world px to frame px
(``camera``). A point ``p`` on line ``k`` in frame ``i`` is then at

    ``p' = P_j · P_i⁻¹ · p``

in frame ``j`` (3×3 homogeneous matrices), and a point of the background at
``C_j · C_i⁻¹ · p``. This is the motion the temporal F (:mod:`talos.axis.evaluation.temporal`)
would use if its optical flow were perfect.

A point of a trace is not labelled with a line, so :func:`true_motion` gives each point the
motion of the **nearest true line of frame** ``i`` within ``radius_px`` (3 tolerances of the
temporal F, 6 px, by default), and the camera's motion farther away: a stroke drawn on a true
line moves with it; a stroke on texture or background moves with the background. The true
lines of frame ``i`` are its *visible* pieces, and the boundary between an object in front
and one behind belongs to the front object's silhouette only (the one behind is cut there),
so a point on such a boundary moves with the **occluder**: the edge a viewer sees moves with
the object that makes it, even where the object behind slides the other way. An optical flow
averages the two sides there and is off by pixels exactly on silhouettes.

Nearest line: the true lines of frame ``i`` rasterised 1 px wide (:func:`~talos.axis.io.
scenes.truth_map`, at the size of the points), then one distance transform with the label of
the nearest line pixel (``cv2.distanceTransformWithLabels``, 5×5 mask), read at each point's
nearest pixel. Points off the image move with the camera. Where two lines cross, a point
within a pixel or so of the crossing may take the other line's motion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from talos.axis.io.scenes import truth_map

RADIUS_PX = 6.0  # 3 x the temporal F's 2 px tolerance


class MotionError(ValueError):
    """The ground truth cannot give the true motion (no poses, a frame out of range)."""


def _matrix(values: Any, what: str) -> np.ndarray:
    """``[a, b, tx, c, d, ty]`` as a ``(3, 3)`` float64 homogeneous matrix."""
    m = np.asarray(values, np.float64)
    if m.shape != (6,) or not np.isfinite(m).all():
        raise MotionError(f"ground truth {what} is not 6 finite numbers: {values!r}")
    return np.vstack([m.reshape(2, 3), [0.0, 0.0, 1.0]])


def has_poses(gt: Mapping[str, Any]) -> bool:
    """Whether every frame of the ground truth ``gt`` records ``poses`` and ``camera`` (clips
    generated before they were recorded do not)."""
    frames = gt.get("frame_truth") or []
    return bool(frames) and all("poses" in f and "camera" in f for f in frames)


def frame_poses(gt: Mapping[str, Any], index: int) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Frame ``index``'s poses ``{line id: (3, 3)}`` and camera ``(3, 3)``, in the clip's px.

    Raises :class:`MotionError` for a frame out of range or a ground truth without poses
    (made before they were recorded: generate the clip again).
    """
    frames = gt.get("frame_truth") or []
    if not 0 <= index < len(frames):
        raise MotionError(f"frame index {index} outside 0..{len(frames) - 1}")
    frame = frames[index]
    if "poses" not in frame or "camera" not in frame:
        raise MotionError(
            "ground truth has no poses (made before true motion was recorded): "
            "generate the clip again"
        )
    poses = {int(k): _matrix(v, f"pose of line {k}") for k, v in frame["poses"].items()}
    return poses, _matrix(frame["camera"], "camera")


@dataclass(frozen=True)
class MotionField:
    """The true motion from one frame to another at one image size.

    ``slot`` ``(H, W)`` int32 picks, per pixel, one of ``maps`` ``(S, 2, 3)``: slot 0 is the
    camera's motion, slot ``s ≥ 1`` that of the nearest true line.
    """

    slot: np.ndarray
    maps: np.ndarray

    def move(self, points: np.ndarray) -> np.ndarray:
        """``points`` ``(N, 2)`` px (x, y) in the first frame → ``(N, 2)`` float64 px in the
        second, each by the affine map of its pixel's slot."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        h, w = self.slot.shape
        ix, iy = np.rint(p[:, 0]).astype(np.int64), np.rint(p[:, 1]).astype(np.int64)
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        slot = np.zeros(len(p), np.int64)
        slot[inside] = self.slot[iy[inside], ix[inside]]
        m = self.maps[slot]  # (N, 2, 3)
        moved: np.ndarray = np.einsum("nij,nj->ni", m[:, :, :2], p) + m[:, :, 2]
        return moved


def motion_field(
    gt: Mapping[str, Any],
    prev_index: int,
    index: int,
    shape: tuple[int, int] | None = None,
    radius_px: float = RADIUS_PX,
) -> MotionField:
    """The true motion from frame ``prev_index`` to frame ``index`` (see the module).

    Parameters
    ----------
    gt : a ground truth with ``poses`` and ``camera`` per frame, as loaded from ``.gt.json``.
    prev_index, index : frame indices (any two, in either order).
    shape : ``(H, W)`` px of the points to move; default the clip's size. Another size
        scales the truth and the motion: with ``S = diag(W / W_clip, H / H_clip, 1)`` a line's
        motion is ``S · P_index · P_prev⁻¹ · S⁻¹``.
    radius_px : a point farther than this (px, at ``shape``) from every true line of frame
        ``prev_index`` moves with the camera.

    Raises
    ------
    MotionError : a frame out of range, no poses, or a line of the truth without a pose.
    """
    if radius_px < 0:
        raise MotionError(f"radius must be at least 0 px, got {radius_px}")
    before, camera_before = frame_poses(gt, prev_index)
    after, camera_after = frame_poses(gt, index)
    h, w = shape if shape is not None else (int(gt["height"]), int(gt["width"]))
    to_shape = np.diag([w / float(gt["width"]), h / float(gt["height"]), 1.0])

    def motion(p_before: np.ndarray, p_after: np.ndarray, what: str) -> np.ndarray:
        if abs(np.linalg.det(p_before)) < 1e-12:
            raise MotionError(f"ground truth {what} in frame {prev_index} is not invertible")
        affine: np.ndarray = (
            to_shape @ p_after @ np.linalg.inv(p_before) @ np.linalg.inv(to_shape)
        )[:2]
        return affine

    lines = truth_map(gt, prev_index, (h, w))  # id + 1 on line pixels
    ids = np.unique(lines[lines > 0]).astype(np.int64) - 1
    missing = [int(k) for k in ids if int(k) not in before or int(k) not in after]
    if missing:
        raise MotionError(f"ground truth has no pose for line {missing[0]}")
    maps = np.stack(
        [motion(camera_before, camera_after, "camera")]
        + [motion(before[int(k)], after[int(k)], f"pose of line {k}") for k in ids]
    )
    slot = np.zeros((h, w), np.int32)
    if len(ids):
        src = np.where(lines == 0, 255, 0).astype(np.uint8)  # 255 off the lines, 0 on them
        distance, labels = cv2.distanceTransformWithLabels(
            src, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        # DIST_LABEL_PIXEL numbers line pixels 1.. in row-major order: each to its slot.
        slot_of_id = np.zeros(int(lines.max()) + 1, np.int32)
        slot_of_id[ids + 1] = np.arange(1, len(ids) + 1)
        lut = np.concatenate([[0], slot_of_id[lines[src == 0]]]).astype(np.int32)
        slot = np.where(distance <= radius_px, lut[labels], 0).astype(np.int32)
    return MotionField(slot, maps)


def true_motion(
    gt: Mapping[str, Any],
    prev_index: int,
    index: int,
    points: np.ndarray,
    shape: tuple[int, int] | None = None,
    radius_px: float = RADIUS_PX,
) -> np.ndarray:
    """``points`` ``(N, 2)`` px of frame ``prev_index`` moved to frame ``index`` by the true
    motion: ``(N, 2)`` float64 px (:func:`motion_field`, then :meth:`MotionField.move`)."""
    return motion_field(gt, prev_index, index, shape, radius_px).move(points)


def truth_polylines(
    gt: Mapping[str, Any], index: int, shape: tuple[int, int] | None = None
) -> list[tuple[np.ndarray, bool]]:
    """Frame ``index``'s visible true lines as ``(points (n, 2) px, closed)``, scaled to
    ``shape`` ``(H, W)`` (default the clip's size) as :func:`~talos.axis.io.scenes.truth_map`
    scales them."""
    h, w = shape if shape is not None else (int(gt["height"]), int(gt["width"]))
    scale = np.array([w / float(gt["width"]), h / float(gt["height"])])
    return [
        (np.asarray(e["points"], np.float64).reshape(-1, 2) * scale, bool(e.get("closed")))
        for e in gt["frame_truth"][index]["lines"]
    ]
