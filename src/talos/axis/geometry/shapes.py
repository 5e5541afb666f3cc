"""Closed paths that are circles or triangles, recognised by least-squares fits.

A circle is accepted when the algebraic (Kåsa) fit leaves every point within
``max(1 px, circle_residual · r)`` of the circle; a triangle when a polygon simplification
finds three corners and 90% of the points lie within ``max(1 px, triangle_residual ·
perimeter)`` of the triangle whose sides are least-squares lines through each side's points
(all points within 5% of the perimeter: thinning rounds sharp corners off).
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_RADIUS = 3.0


def fit_circle(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares circle through ``(n, 2)`` points (Kåsa): ``(center (2,), radius)``.

    Solves ``x² + y² + D x + E y + F = 0`` in the least-squares sense on centred points.
    """
    pts = np.asarray(points, dtype=np.float64)
    mean = pts.mean(0)
    q = pts - mean
    a = np.column_stack([q, np.ones(len(q))])
    b = -(q**2).sum(1)
    (d, e, f), *_ = np.linalg.lstsq(a, b, rcond=None)
    center = np.array([-d / 2, -e / 2])
    r2 = center @ center - f
    return center + mean, float(np.sqrt(r2)) if r2 > 0 else 0.0


def detect_circle(
    points: np.ndarray, closed: bool, residual: float = 0.06
) -> tuple[np.ndarray, float] | None:
    """``(center, radius)`` when the closed path is a circle, else ``None``."""
    if not closed or len(points) < 8:
        return None
    center, radius = fit_circle(points)
    if radius < MIN_RADIUS:
        return None
    dev = np.abs(np.hypot(*(points - center).T) - radius)
    if dev.max() > max(1.0, residual * radius):
        return None
    return center, radius


def _line_intersection(p: np.ndarray, d: np.ndarray, q: np.ndarray, e: np.ndarray) -> np.ndarray:
    det = d[0] * e[1] - d[1] * e[0]
    if abs(det) < 1e-9:
        midpoint: np.ndarray = (p + q) / 2
        return midpoint
    t = ((q - p)[0] * e[1] - (q - p)[1] * e[0]) / det
    crossing: np.ndarray = p + t * d
    return crossing


def _distance_to_segments(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Distance of every point to the nearest side of the closed polygon ``corners``."""
    a = corners
    b = np.roll(corners, -1, axis=0)
    ab = b - a
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab).sum(2) / np.maximum((ab * ab).sum(1), 1e-12), 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    distance: np.ndarray = np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1)).min(1)
    return distance


def detect_triangle(
    points: np.ndarray, closed: bool, residual: float = 0.01, min_angle_deg: float = 12.0
) -> np.ndarray | None:
    """The three vertices ``(3, 2)`` when the closed path is a triangle, else ``None``."""
    if not closed or len(points) < 12:
        return None
    pts = np.asarray(points, dtype=np.float32)
    perimeter = cv2.arcLength(pts, closed=True)
    approx = cv2.approxPolyDP(pts, 0.04 * perimeter, closed=True).reshape(-1, 2)
    if len(approx) != 3:
        return None
    # Refine: fit a line to each side's points, away from the rounded corners.
    near = np.argmin(np.hypot(*(pts[:, None, :] - approx[None]).transpose(2, 0, 1)), axis=0)
    order = np.argsort(near)
    near, approx = near[order], approx[order]
    lines = []
    n = len(pts)
    for i in range(3):
        a, b = int(near[i]), int(near[(i + 1) % 3])
        span = (b - a) % n
        trim = span // 6
        idx = (a + trim + np.arange(max(span - 2 * trim, 2))) % n
        vx, vy, x0, y0 = cv2.fitLine(pts[idx], cv2.DIST_L2, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)))
    vertices = np.array(
        [_line_intersection(*lines[(i - 1) % 3], *lines[i]) for i in range(3)], np.float64
    )
    sides = np.roll(vertices, -1, axis=0) - vertices
    lengths = np.hypot(*sides.T)
    if lengths.min() < 3.0:
        return None
    cos = -(sides * np.roll(sides, 1, axis=0)).sum(1) / (lengths * np.roll(lengths, 1))
    if np.degrees(np.arccos(np.clip(cos, -1, 1))).min() < min_angle_deg:
        return None
    dev = _distance_to_segments(pts.astype(np.float64), vertices)
    # Thinning cuts sharp corners off, so judge the sides (90% of points) and bound the rest.
    perimeter = float(lengths.sum())
    if np.quantile(dev, 0.9) > max(1.0, residual * perimeter) or dev.max() > 0.05 * perimeter:
        return None
    return vertices
