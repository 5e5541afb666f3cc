"""Temporal hysteresis: a line seen in the last frame survives while its evidence does.

Canny's hysteresis keeps a weak edge pixel when it connects to a strong one *in space*; this
does the same *in time*. An edge strategy hands over, beside its line map, the *weak*
candidates: pixels on a ridge of the edge strength (after non-maximum suppression) above a
lower threshold that hysteresis did not keep (:meth:`~talos.axis.strategies.EdgeDetector.
detect_with_weak`). Last frame's lines that were there the frame before too
(:func:`lasting_lines`: a blip seen once keeps nothing alive) are moved onto this frame with
the flow and drawn ``radius`` px wide (:func:`expected_lines`); weak pixels there that this
frame's line map does not already explain are the line's evidence, and each 8-connected
group of at least ``min_pixels`` of them is kept (:func:`recovered_lines`).

It adds no line that the picture does not show: every pixel kept is a local maximum of the
edge strength, and only next to where a line was. New lines still appear at once (they pass
the ordinary thresholds), and a line whose object has left loses its weak evidence too, so
it goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from talos.axis.geometry.sampling import warp_points
from talos.axis.strokes import Stroke
from talos.axis.tracking.batch import sample_strokes, split_by_owner

SAMPLE_STEP_PX = 1.5  # spacing of the points of last frame's lines that are moved


def pack_mask(mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """``(H, W)`` bool → 1 bit per pixel and the shape: 8× less to send between processes."""
    return np.packbits(mask, axis=None), (int(mask.shape[0]), int(mask.shape[1]))


def unpack_mask(packed: tuple[np.ndarray, tuple[int, int]]) -> np.ndarray:
    """The ``(H, W)`` bool mask that :func:`pack_mask` packed."""
    bits, (height, width) = packed
    mask: np.ndarray = np.unpackbits(bits, count=height * width).reshape(height, width)
    return mask.view(bool)  # 0/1 bytes: a bool view, no copy


@dataclass(frozen=True)
class MovedLines:
    """Last frame's strokes sampled every :data:`SAMPLE_STEP_PX` px: ``points`` ``(M, 2)``
    where they were, ``moved`` ``(M, 2)`` where ``flow`` takes them (bilinear), and the
    stroke each point belongs to, ``owner`` ``(M,)`` of ``count`` strokes. Sampled once
    per frame for both :func:`lasting_lines` and :func:`expected_lines`."""

    points: np.ndarray
    moved: np.ndarray
    owner: np.ndarray
    count: int

    @classmethod
    def of(cls, strokes: Sequence[Stroke], flow: np.ndarray) -> MovedLines:
        if not strokes:
            empty = np.zeros((0, 2))
            return cls(empty, empty, np.zeros(0, np.int64), 0)
        points, owner = sample_strokes(strokes, SAMPLE_STEP_PX)
        return cls(points, warp_points(points, flow), owner, len(strokes))

    def subset(self, keep: np.ndarray) -> MovedLines:
        """Only the strokes where ``keep`` ``(count,)`` bool is set (renumbered)."""
        rows = keep[self.owner]
        renumber = np.cumsum(keep) - 1
        return MovedLines(
            self.points[rows], self.moved[rows], renumber[self.owner[rows]], int(keep.sum())
        )


def expected_lines(lines: MovedLines, shape: tuple[int, int], radius: int) -> np.ndarray:
    """Where last frame's ``lines`` should be now: ``(H, W)`` bool, their moved curves
    drawn ``2 · radius + 1`` px wide."""
    canvas = np.zeros(shape, np.uint8)
    if not lines.count:
        return canvas.view(bool)
    moved = np.round(lines.moved * 4).astype(np.int32)  # 2 fractional bits
    curves = [c.reshape(-1, 1, 2) for c in split_by_owner(moved, lines.owner, lines.count)]
    cv2.polylines(canvas, curves, False, 1, 2 * radius + 1, cv2.LINE_8, 2)
    return canvas.view(bool)  # drawn with 1: a bool view, no copy


def pixel_groups(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """8-connected groups of the pixels ``(ys[k], xs[k])`` (distinct), ``(K,)`` group labels
    ``0..G−1``: a graph of neighbouring pairs found by sorted keys, not a full-frame pass
    (the pixels are a few hundred out of millions)."""
    count = len(ys)
    if count == 0:
        return np.zeros(0, np.int64)
    width = int(xs.max()) + 3
    key = (ys.astype(np.int64) + 1) * width + (xs.astype(np.int64) + 1)
    order = np.argsort(key)
    sorted_key = key[order]
    rows, cols = [], []
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each neighbouring pair once
        want = key + dy * width + dx
        at = np.minimum(np.searchsorted(sorted_key, want), count - 1)
        hit = sorted_key[at] == want
        rows.append(np.flatnonzero(hit))
        cols.append(order[at[hit]])
    rows_all, cols_all = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows_all)), (rows_all, cols_all)), shape=(count, count))
    return connected_components(graph, directed=False)[1]


def lasting_lines(
    lines: MovedLines, persisted: np.ndarray | None, share: float = 0.5
) -> np.ndarray:
    """Which of last frame's ``lines`` were there the frame before too, ``(count,)`` bool:
    at least ``share`` of each one's curve lies in ``persisted`` ``(H, W)`` bool, where the
    lines of the frame before had moved to (:func:`expected_lines`). A blip of texture seen
    in one frame only keeps no weak evidence alive. None (no frame before): none."""
    if persisted is None or not lines.count:
        return np.zeros(lines.count, bool)
    h, w = persisted.shape
    x = np.clip(np.rint(lines.points[:, 0]).astype(np.int64), 0, w - 1)
    y = np.clip(np.rint(lines.points[:, 1]).astype(np.int64), 0, h - 1)
    inside = np.bincount(lines.owner, weights=persisted[y, x], minlength=lines.count)
    total = np.bincount(lines.owner, minlength=lines.count)
    kept: np.ndarray = inside >= share * total
    return kept


def recovered_lines(
    line_map: np.ndarray, weak: np.ndarray, expected: np.ndarray, min_pixels: int
) -> tuple[np.ndarray, np.ndarray]:
    """The weak pixels that continue last frame's lines, as their coordinates ``(ys, xs)``
    (row by row; the few pixels kept, not a frame-size mask).

    ``line_map`` ``(H, W)`` (ink > 0), ``weak`` and ``expected`` ``(H, W)`` bool. Kept: the
    8-connected groups (:func:`pixel_groups`) of at least ``min_pixels`` pixels of
    ``weak & expected`` that lie more than 2 px from the line map's ink (what it already
    has needs no second stroke).
    """
    none = np.zeros(0, np.int64)
    # Sparse: OpenCV lists the few set pixels many times faster than np.nonzero scans.
    both = cv2.findNonZero(cv2.bitwise_and(weak.view(np.uint8), expected.view(np.uint8)))
    if both is None:
        return none, none
    xs, ys = both.reshape(-1, 2).T
    explained = cv2.dilate(line_map, np.ones((5, 5), np.uint8))  # uint8: 0 off the ink
    fresh = explained[ys, xs] == 0
    ys, xs = ys[fresh], xs[fresh]
    groups = pixel_groups(ys, xs)
    big = np.bincount(groups)[groups] >= min_pixels if len(groups) else np.zeros(0, bool)
    return ys[big], xs[big]
