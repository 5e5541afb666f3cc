"""Bilinear reads of an image at many sub-pixel points at once; points moved by a flow field;
polylines resampled by arc length."""

from __future__ import annotations

import cv2
import numpy as np

# cv2.remap wants map sides under 2^15; points are laid out in rows this long.
_ROW = 4096


def sample_bilinear(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``image`` ``(H, W)`` or ``(H, W, C)`` read bilinearly at ``points`` ``(N, 2)`` (x, y in
    px; edges clamped) → ``(N,)`` or ``(N, C)``: uint8 for a uint8 image (OpenCV's
    fixed-point interpolation, rounded; no float copy of a whole frame), else float32.

    The points go to ``cv2.remap`` as a map of rows of at most 4096, so any number of them
    is fine (a ``(1, N)`` map fails once N reaches 32767).
    """
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    n = len(pts)
    channels = image.shape[2:] if image.ndim == 3 else ()
    dtype = np.uint8 if image.dtype == np.uint8 else np.float32
    if n == 0:
        return np.zeros((0, *channels), dtype)
    rows = -(-n // _ROW)
    width = min(n, _ROW)
    flat = np.zeros((rows * width, 2), np.float32)
    flat[:n] = pts
    grid = flat.reshape(rows, width, 2)
    values = cv2.remap(
        np.ascontiguousarray(image, dtype=dtype),
        grid[..., 0],
        grid[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return values.reshape(rows * width, *channels)[:n]


def sample_offset(
    image: np.ndarray, dx: np.ndarray, dy: np.ndarray, border: int = cv2.BORDER_REPLICATE
) -> np.ndarray:
    """``image`` ``(H, W)`` or ``(H, W, C)`` float32 read bilinearly at ``p + d`` for every
    pixel ``p``, with the per-pixel offset ``d = (dx, dy)`` ``(H, W)`` float32 px (a normal to
    an edge, a flow): the same shape as ``image``."""
    height, width = image.shape[:2]
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    moved: np.ndarray = cv2.remap(image, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=border)
    return moved


def sample_either_side(
    image: np.ndarray, dx: np.ndarray, dy: np.ndarray, border: int = cv2.BORDER_REPLICATE
) -> tuple[np.ndarray, np.ndarray]:
    """``image`` ``(H, W)`` float32 read bilinearly at ``p + d`` and ``p − d`` for every pixel
    ``p`` (:func:`sample_offset`; ``d`` typically a normal to an edge or ridge, scaled): the
    two ``(H, W)`` float32 maps ``(ahead, behind)``."""
    return sample_offset(image, dx, dy, border), sample_offset(image, -dx, -dy, border)


def warp_points(points: np.ndarray, flow: np.ndarray | None) -> np.ndarray:
    """Move ``(n, 2)`` points by the flow ``(H, W, 2)`` at their positions (bilinear)."""
    if flow is None or len(points) == 0:
        return points
    return points + sample_bilinear(flow, points).astype(np.float64)


def polyline_length(points: np.ndarray) -> float:
    """Length in px of the polyline ``points`` ``(n, 2)`` (0 for fewer than two points)."""
    return float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0


def polyline_lengths(points: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Lengths in px ``(n,)`` of ``n`` polylines given back to back: ``points`` ``(P, 2)``,
    ``owner`` ``(P,)`` sorted, the polyline of each point (0 for one of fewer than two)."""
    inside = owner[1:] == owner[:-1]  # steps between two points of one polyline
    steps = np.hypot(*np.diff(points, axis=0).T)[inside]
    lengths: np.ndarray = np.bincount(owner[1:][inside], steps, minlength=n)
    return lengths


def resample_polyline(points: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` px of arc length along a polyline ``(n, 2)`` (ends kept)."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 2:
        return points.copy()
    seg = np.hypot(*np.diff(points, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = s[-1]
    if total <= step:
        return points[[0, -1]]
    return _at_arc(points, s, int(np.ceil(total / step)) + 1)


def points_along(points: np.ndarray, count: int) -> np.ndarray:
    """``count`` points evenly spaced by arc length along a polyline ``(n ≥ 2, 2)``, its
    ends included: ``(count, 2)``."""
    points = np.asarray(points, dtype=np.float64)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    return _at_arc(points, s, count)


def _at_arc(points: np.ndarray, s: np.ndarray, count: int) -> np.ndarray:
    """``count`` points at even arc lengths from 0 to ``s[-1]`` along ``points``, whose
    cumulative arc length is ``s``."""
    t = np.linspace(0.0, s[-1], count)
    return np.column_stack([np.interp(t, s, points[:, 0]), np.interp(t, s, points[:, 1])])
