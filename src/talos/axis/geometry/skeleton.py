"""Line maps to one-pixel centerlines: thin-hole filling, thinning, neighbour counts.

A line map is ``(H, W)`` with ink > 0. Every function here works on whole images with
OpenCV/NumPy/scikit-image kernels; none loops over pixels in Python.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

_NEIGHBOURS = np.ones((3, 3), np.float32)
_NEIGHBOURS[1, 1] = 0.0


def neighbour_count(mask: np.ndarray) -> np.ndarray:
    """Number of set 8-neighbours of every pixel of a 0/1 ``(H, W)`` mask, ``(H, W)`` uint8."""
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    return cv2.filter2D(m, -1, _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)


def fill_thin_holes(ink: np.ndarray, max_width: float) -> np.ndarray:
    """Fill enclosed background regions (holes) no wider than ``max_width`` px.

    An edge detector traces a wide dark line as two parallel edges around a thin sliver of
    background; filling the sliver makes the line one band again, so it thins to one
    centerline. Borders are traced on the ink pixels around each hole (``cv2.findContours``,
    one scan of the image); a hole's area is its border's area less the areas of the
    components inside it, its perimeter the sum of those borders. A sliver of width ``h`` and
    length ``L`` has area ``≈ (h + 1)·L`` and perimeter ``≈ 2L``, so its width is
    ``2·area / perimeter − 1``. ``ink`` is ``(H, W)`` bool or 0/255; returns a bool mask.
    """
    mask = np.asarray(ink) > 0
    if max_width <= 0 or mask.size == 0 or not mask.any():
        return mask
    m = mask.astype(np.uint8)
    contours, hierarchy = cv2.findContours(m, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return mask
    links = hierarchy[0]
    area = np.array([cv2.contourArea(c) for c in contours])
    perimeter = np.array([cv2.arcLength(c, True) for c in contours])
    depth = np.zeros(len(contours), int)
    for i in range(len(contours)):  # parents come before children in OpenCV's order
        parent = links[i, 3]
        depth[i] = depth[parent] + 1 if parent >= 0 else 0
    is_hole = depth % 2 == 1
    hole_area = np.where(is_hole, area, 0.0)
    hole_perimeter = np.where(is_hole, perimeter, 0.0)
    inner = np.flatnonzero((~is_hole) & (links[:, 3] >= 0))
    np.subtract.at(hole_area, links[inner, 3], area[inner])
    np.add.at(hole_perimeter, links[inner, 3], perimeter[inner])
    width = 2.0 * hole_area / np.maximum(hole_perimeter, 1e-9) - 1.0
    children: dict[int, list[np.ndarray]] = {}
    for j in inner:
        children.setdefault(int(links[j, 3]), []).append(contours[j])
    for i in np.flatnonzero(is_hole & (width <= max_width)):
        x, y, w, h = cv2.boundingRect(contours[i])
        paint = np.zeros((h, w), np.uint8)
        cv2.drawContours(paint, [contours[i]], -1, 1, cv2.FILLED, offset=(-x, -y))
        # Components inside the hole keep their own interiors (a ring inside a ring).
        cv2.drawContours(paint, children.get(int(i), []), -1, 0, cv2.FILLED, offset=(-x, -y))
        m[y : y + h, x : x + w] |= paint
    return m > 0


def thin(ink: np.ndarray) -> np.ndarray:
    """One-pixel, 8-connected centerlines of the ink, ``(H, W)`` bool (Zhang–Suen thinning)."""
    mask = np.asarray(ink) > 0
    if mask.size == 0 or not mask.any():
        return np.zeros(mask.shape, bool)
    return skeletonize(mask)


def ink_distance(ink: np.ndarray) -> np.ndarray:
    """Distance of every ink pixel to the nearest background pixel, ``(H, W)`` float32 px.

    On the centerline of a band ``w`` pixels wide this is ``(w + 1) / 2``, so the line width
    there is ``2·DT − 1`` (see :func:`width_from_distance`). The 3×3 chamfer metric is within
    a few percent of Euclidean at line-width scales, and fast.
    """
    mask = (np.asarray(ink) > 0).astype(np.uint8)
    if mask.size == 0:
        return np.zeros(mask.shape, np.float32)
    return cv2.distanceTransform(mask, cv2.DIST_L2, 3)


def width_from_distance(distance: np.ndarray) -> np.ndarray:
    """Line width in px from centerline distances (:func:`ink_distance`), at least 1 px."""
    return np.maximum(2.0 * np.asarray(distance, np.float64) - 1.0, 1.0)
