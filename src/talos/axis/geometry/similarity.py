"""Similarities between point sets: least-squares fits per group, and nearest points on
polylines of the same group.

A similarity ``z ↦ a·z + b`` is written with complex numbers (``z = x + iy``): ``|a|`` is
the scale, ``arg a`` the rotation (screen coordinates, x right and y down: positive turns x
towards y) and ``b`` the translation. Many point sets are handled in one pass by a
``group`` (or ``owner``) array naming the set of each point.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

# Points of different groups are set this far apart along x so that one k-d tree over all
# groups finds each point's nearest point within its own group.
_GROUP_OFFSET = 1.0e7


def group_means(points: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Per group ``0..n-1``, the mean of its points ``(P, 2)`` as a complex number ``(n,)``
    (0 for a group without points)."""
    count = np.maximum(np.bincount(group, minlength=n), 1)
    total = np.bincount(group, points[:, 0], n) + 1j * np.bincount(group, points[:, 1], n)
    mean: np.ndarray = total / count
    return mean


def fit_similarity(
    source: np.ndarray, target: np.ndarray, group: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares similarity per group from ``source`` to ``target`` points ``(P, 2)``.

    For the points of group ``g`` (``group`` ``(P,)`` in ``0..n-1``), as complex numbers
    ``p``, ``q`` with centroids ``p̄``, ``q̄``: ``a = Σ conj(p − p̄)(q − q̄) / Σ |p − p̄|²``,
    ``b = q̄ − a·p̄`` minimise ``Σ |a·p + b − q|²``. Returns ``a`` and ``b``, ``(n,)``
    complex; a group whose points all coincide gets the pure translation ``a = 1``.
    """
    p = source[:, 0] + 1j * source[:, 1]
    q = target[:, 0] + 1j * target[:, 1]
    p_mean, q_mean = group_means(source, group, n), group_means(target, group, n)
    dp, dq = p - p_mean[group], q - q_mean[group]
    cross = np.conj(dp) * dq
    num = np.bincount(group, weights=cross.real, minlength=n) + 1j * np.bincount(
        group, weights=cross.imag, minlength=n
    )
    den = np.bincount(group, weights=np.abs(dp) ** 2, minlength=n)
    a = np.where(den > 1e-9, num / np.where(den > 1e-9, den, 1.0), 1.0 + 0j)
    return a, q_mean - a * p_mean


def apply_similarity(
    points: np.ndarray, a: complex | np.ndarray, b: complex | np.ndarray
) -> np.ndarray:
    """``a·z + b`` of points ``(P, 2)`` (``a``, ``b`` scalars or one per point)."""
    z = a * (points[:, 0] + 1j * points[:, 1]) + b
    return np.column_stack([z.real, z.imag])


def grouped_points(points: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Points ``(P, 2)`` set apart by group along x, so that a k-d tree over them finds each
    query's nearest point within the query's own group."""
    return np.column_stack([points[:, 0] + group * _GROUP_OFFSET, points[:, 1]])


class GroupedPolylines:
    """The polylines through ``points`` ``(P, 2)`` in order, one per ``owner`` value, with
    the nearest point on them of other points in the same group (k-d tree on the vertices,
    then the two segments at the nearest vertex)."""

    def __init__(self, points: np.ndarray, owner: np.ndarray) -> None:
        self.points, self.owner = points, owner
        self.tree = cKDTree(grouped_points(points, owner))

    def nearest(self, query: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance ``(Q,)`` and nearest point ``(Q, 2)`` on the polyline of each query's group."""
        found, j = self.tree.query(grouped_points(query, group))
        distance = np.asarray(found, np.float64)
        best = self.points[j].copy()
        last = len(self.points) - 1
        for step in (-1, 1):
            k = np.clip(j + step, 0, last)
            valid = (k != j) & (self.owner[k] == self.owner[j])
            start, end = self.points[j], self.points[k]
            along = end - start
            length2 = np.maximum((along**2).sum(axis=1), 1e-12)
            t = np.clip(((query - start) * along).sum(axis=1) / length2, 0.0, 1.0)
            foot = start + t[:, None] * along
            d = np.hypot(*(query - foot).T)
            better = valid & (d < distance)
            distance = np.where(better, d, distance)
            best[better] = foot[better]
        return distance, best
