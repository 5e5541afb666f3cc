"""Per-point work on many ordered paths at once: smoothing, corner detection, widths.

A frame of real footage has hundreds of short strokes; doing each one's small NumPy calls in
a Python loop costs more than the arithmetic. :class:`PathBatch` concatenates the paths and
turns "the point ``k`` steps along this path" into one gather over all of them, with each
path's own boundary rule (clamped for open paths, wrapped for closed ones).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from talos.axis.geometry import ragged
from talos.axis.geometry.skeleton import PixelSet, width_from_distance


class PathBatch:
    """``k`` paths of ``n_i`` points each, concatenated into ``points`` ``(N, 2)``."""

    def __init__(self, paths: Sequence[np.ndarray], closed: Sequence[bool]) -> None:
        points = (
            np.concatenate([np.asarray(p, np.float64).reshape(-1, 2) for p in paths])
            if len(paths)
            else np.zeros((0, 2))
        )
        self._build(points, np.array([len(p) for p in paths], np.int64), closed)

    @classmethod
    def from_flat(
        cls, points: np.ndarray, sizes: np.ndarray, closed: np.ndarray | Sequence[bool]
    ) -> PathBatch:
        """A batch of paths already back to back: ``points`` ``(N, 2)``, ``sizes`` ``(k,)``."""
        batch = cls.__new__(cls)
        batch._build(np.asarray(points, np.float64), np.asarray(sizes, np.int64), closed)
        return batch

    def _build(
        self, points: np.ndarray, sizes: np.ndarray, closed: np.ndarray | Sequence[bool]
    ) -> None:
        self.points = points
        self.sizes = sizes
        self.starts = np.cumsum(sizes) - sizes
        self.path_closed = np.asarray(closed, bool).reshape(-1)
        self.path = np.repeat(np.arange(len(sizes)), sizes)
        self.local = np.arange(len(points)) - self.starts[self.path]
        self.n = sizes[self.path]
        self.closed = self.path_closed[self.path]

    def __len__(self) -> int:
        return len(self.sizes)

    def along(self, offset: int | np.ndarray) -> np.ndarray:
        """Global index of the point ``offset`` steps along each point's own path."""
        k = self.local + offset
        wrapped = np.mod(k, self.n)
        clamped = np.clip(k, 0, self.n - 1)
        index: np.ndarray = self.starts[self.path] + np.where(self.closed, wrapped, clamped)
        return index

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """Per-path pieces of a per-point array."""
        return ragged.split(values, self.sizes)

    def lengths(self) -> np.ndarray:
        """Polyline length of every path ``(k,)`` px, closing segment included when closed."""
        if len(self.points) == 0:
            return np.zeros(len(self.sizes))
        nxt = self.points[self.along(1)]
        step = np.hypot(*(nxt - self.points).T)
        return np.bincount(self.path, step, len(self.sizes))

    def subset(self, keep: np.ndarray) -> PathBatch:
        """The paths where ``keep`` ``(k,)`` bool is set, in order."""
        keep = np.asarray(keep, bool)
        return PathBatch.from_flat(
            self.points[keep[self.path]], self.sizes[keep], self.path_closed[keep]
        )


def smooth(batch: PathBatch, window: int) -> np.ndarray:
    """Moving average over ``window`` points along each path (ends of open paths kept);
    paths shorter than ``window + 2`` points are left as they are. ``(N, 2)``."""
    pts = batch.points
    if window < 2 or len(pts) == 0:
        return pts.copy()
    lo = -(window // 2)
    total = np.zeros_like(pts)
    for offset in range(lo, lo + window):
        total += pts[batch.along(offset)]
    out = total / window
    keep = (batch.n < window + 2)[:, None]
    ends = ~batch.closed & ((batch.local == 0) | (batch.local == batch.n - 1))
    return np.where(keep | ends[:, None], pts, out)


def corners(
    batch: PathBatch, points: np.ndarray, angle_deg: float, reach: int = 4
) -> list[np.ndarray]:
    """Corner indices per path (local): turn over ``±reach`` points above ``angle_deg`` at a
    local maximum over ``±reach``; never within ``reach`` of an open path's ends."""
    if len(points) == 0:
        return [np.zeros(0, int) for _ in batch.sizes]
    a = points - points[batch.along(-reach)]
    b = points[batch.along(reach)] - points
    na, nb = np.hypot(*a.T), np.hypot(*b.T)
    cos = np.einsum("ij,ij->i", a, b) / np.maximum(na * nb, 1e-12)
    turn = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    near_end = ~batch.closed & ((batch.local < reach) | (batch.local >= batch.n - reach))
    turn[near_end | (batch.n < 2 * reach + 3)] = 0.0
    peak_of_window = turn.copy()
    for offset in range(-reach, reach + 1):
        np.maximum(peak_of_window, turn[batch.along(offset)], out=peak_of_window)
    found = np.flatnonzero((turn >= peak_of_window) & (turn > angle_deg))
    if len(found) > 1:  # plateaus: keep the first index of each run on a path
        same_path = batch.path[found[1:]] == batch.path[found[:-1]]
        found = found[np.concatenate([[True], ~same_path | (np.diff(found) > reach)])]
    out = [np.zeros(0, int) for _ in batch.sizes]
    for p, g in zip(batch.path[found].tolist(), found.tolist(), strict=True):
        out[p] = np.append(out[p], g - batch.starts[p])
    return out


def widths(batch: PathBatch, distance: np.ndarray, window: int) -> np.ndarray:
    """Line width in px at every point ``(N,)``, from the ink's distance transform
    ``(H, W)``, averaged over ``window`` points along each path.

    An open centerline ends inside its line's round cap, where the ink is narrower: the last
    ~w points of each open end take the width found just beyond the cap.
    """
    if len(batch.points) == 0:
        return np.zeros(0)
    h, w = distance.shape
    xy = np.rint(batch.points).astype(np.int64)
    raw = width_from_distance(distance[np.clip(xy[:, 1], 0, h - 1), np.clip(xy[:, 0], 0, w - 1)])
    top = np.maximum.reduceat(raw, batch.starts)[batch.path]
    cap = np.minimum(np.ceil(top).astype(np.int64), (batch.n - 1) // 2)
    capped = ~batch.closed & (batch.n > 4)
    head = capped & (batch.local < cap)
    tail = capped & (batch.local > batch.n - 1 - cap)
    first = batch.starts[batch.path]
    last = first + batch.n - 1
    # The width beyond the cap: the mean over the next ~w points (one sample is too noisy).
    running = np.concatenate([[0.0], np.cumsum(raw)])

    def mean_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # inclusive global indices
        b = np.maximum(a, b)
        mean: np.ndarray = (running[b + 1] - running[a]) / (b - a + 1)
        return mean

    beyond_head = mean_between(first + cap, np.minimum(first + 2 * cap, last - cap))
    beyond_tail = mean_between(np.maximum(last - 2 * cap, first + cap), last - cap)
    raw = np.where(head, beyond_head, np.where(tail, beyond_tail, raw))
    half = np.where(batch.n < 3, 0, (np.minimum(window, batch.n) - 1) // 2)
    total = np.zeros_like(raw)
    for offset in range(-(window // 2), window // 2 + 1):
        inside = np.abs(offset) <= half
        total += np.where(inside, raw[batch.along(offset)], 0.0)
    smoothed: np.ndarray = total / (2 * half + 1)
    return smoothed


def centre_on_ink(
    batch: PathBatch,
    ink: np.ndarray,
    skeleton: PixelSet,
    distance: np.ndarray,
    reach: int = 2,
) -> PathBatch:
    """Move every point across its path to the middle of the ink around it: ``batch`` with
    each point ``p`` moved by ``clip((c − p)·n, ±0.5)·n``, where ``n`` is the path's unit
    normal (from the points ``reach`` steps either side) and ``c`` the centroid of the ink
    pixels in the 3×3 window at ``p``.

    Thinning keeps one side of a band two pixels wide (a boundary that non-maximum
    suppression leaves 2 px wide, or 4-connected on a diagonal): its centerline runs half a
    pixel off the middle, and the far side's pixels end up more than a pixel from the
    stroke. A point whose window holds only skeleton pixels (a 1-px line) stays where it is,
    and so does any point with ink all round (a wide line is centred already: those are
    the points whose ``distance`` to the background, the ink's distance transform
    ``(H, W)``, is over 1.5 px, so only the others are looked at). ``ink`` ``(H, W)`` bool
    is the ink that ``skeleton`` (its 1-px centerlines) was thinned from; points are
    ``(x, y)`` px.
    """
    pts = batch.points
    if len(pts) == 0:
        return batch
    h, w = ink.shape
    xy = np.rint(pts).astype(np.int64)
    # Points on the frame's edge have no full window: they stay.
    inside = (xy[:, 0] >= 1) & (xy[:, 0] < w - 1) & (xy[:, 1] >= 1) & (xy[:, 1] < h - 1)
    look = np.flatnonzero(inside)
    look = look[distance[xy[look, 1], xy[look, 0]] <= 1.5]  # background within 3×3
    if len(look) == 0:
        return batch
    x, y = xy[look, 0], xy[look, 1]
    flat = np.ascontiguousarray(ink).reshape(-1).view(np.uint8)
    at, framed = y * w + x, (y + 1) * skeleton.stride + x + 1
    # The window as 9-bit codes (bit k: offset _WINDOW[k]) of its ink and of its skeleton.
    ink_code = np.zeros(len(look), np.uint16)
    skeleton_code = np.zeros(len(look), np.uint16)
    for bit, (dx, dy) in enumerate(_WINDOW.tolist()):
        ink_code |= flat[at + dy * w + dx].astype(np.uint16) << bit
        skeleton_code |= skeleton.image[framed + dy * skeleton.stride + dx].astype(np.uint16) << bit
    moving = (ink_code & ~skeleton_code) != 0  # thinning removed ink next to it
    move, code = look[moving], ink_code[moving]
    if len(move) == 0:
        return batch
    k = batch.local[move]
    n = batch.n[move]
    first = batch.starts[batch.path[move]]
    wrap = batch.closed[move]
    ahead = first + np.where(wrap, (k + reach) % n, np.minimum(k + reach, n - 1))
    behind = first + np.where(wrap, (k - reach) % n, np.maximum(k - reach, 0))
    tangent = pts[ahead] - pts[behind]
    length = np.hypot(*tangent.T)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]]) / np.maximum(length, 1e-12)[:, None]
    centroid = _WINDOW_CENTROID[code]
    across = np.clip((centroid * normal).sum(1), -0.5, 0.5)
    out = pts.copy()
    out[move] += across[:, None] * normal  # a zero tangent (a dot) gives a zero normal
    return PathBatch.from_flat(out, batch.sizes, batch.path_closed)


_WINDOW = np.array([(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])  # (9, 2) offsets
# Centroid offset ``(x, y)`` of the set pixels of every 9-bit window code, ``(512, 2)``.
_BITS = (np.arange(512)[:, None] >> np.arange(9)) & 1
_WINDOW_CENTROID = (_BITS @ _WINDOW) / np.maximum(_BITS.sum(1), 1)[:, None]
