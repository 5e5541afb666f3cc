"""StrokeTracker: give the same line the same ``stroke_id`` from frame to frame.

Each live track remembers the points of its stroke, sampled every ``sample_step_px`` along
the curve. Per frame:

1. **Predict**: move every track's points with the optical flow (previous → this frame).
2. **Score**: a truncated, symmetric chamfer cost between each predicted track ``i`` and
   each stroke ``j`` of this frame, ``c_ij = ½ (d(i→j) + d(j→i))`` with
   ``d(a→b) = mean over points p of a of min(dist(p, b), T)``, ``T = 2·gate``. Distances come
   from two distance transforms with nearest-ink labels (one over this frame's strokes, one
   over the predicted tracks), so ``dist(p, b)`` is read for all points at once; a point
   counts toward the stroke it is nearest to and scores ``T`` against the others. Pairs are
   candidates only when some point of one is nearest the other and their bounding boxes,
   grown by the gate, overlap.
3. **Assign**: Hungarian (``scipy.optimize.linear_sum_assignment``) per connected group of
   candidates; pairs with ``c_ij ≤ gate`` inherit the id. Lost tracks compete with a small
   penalty per missed frame.
4. **Bookkeeping**: unmatched strokes are born with new ids; unmatched tracks are kept
   (predicted with the flow) for ``max_lost`` frames, then die. When a line splits, its
   longest-overlapping piece scores lowest and keeps the id; when lines merge, the merged
   stroke keeps the id of the track it overlaps most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from talos.axis.geometry import ragged
from talos.axis.geometry.sampling import sample_bilinear
from talos.axis.model import Stroke
from talos.axis.tracking.batch import mean_curvatures, sample_strokes, split_by_owner

_NONE = -1


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
    t = np.linspace(0.0, total, int(np.ceil(total / step)) + 1)
    return np.column_stack([np.interp(t, s, points[:, 0]), np.interp(t, s, points[:, 1])])


def stroke_samples(stroke: Stroke, step: float) -> np.ndarray:
    """The stroke's curve sampled about every ``step`` px, ``(m, 2)``."""
    return sample_strokes([stroke], step)[0]


def warp_points(points: np.ndarray, flow: np.ndarray | None) -> np.ndarray:
    """Move ``(n, 2)`` points by the flow ``(H, W, 2)`` at their positions (bilinear)."""
    if flow is None or len(points) == 0:
        return points
    return points + sample_bilinear(flow, points).astype(np.float64)


@dataclass(frozen=True)
class LabelField:
    """Per pixel of a raster ``scale`` × the frame: distance (frame px) to the nearest drawn
    polyline, and the index of that polyline (via ``lut[labels]``; −1 = none drawn)."""

    dist: np.ndarray
    labels: np.ndarray
    lut: np.ndarray
    scale: float

    def lookup(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance and nearest polyline at ``(P, 2)`` frame points; −1 outside the raster."""
        pix = np.round(points * self.scale).astype(np.int64)
        h, w = self.labels.shape
        inside = (pix[:, 0] >= 0) & (pix[:, 0] < w) & (pix[:, 1] >= 0) & (pix[:, 1] < h)
        x, y = np.where(inside, pix[:, 0], 0), np.where(inside, pix[:, 1], 0)
        nearest = np.where(inside, self.lut[self.labels[y, x]], _NONE)
        return self.dist[y, x] / self.scale, nearest


def nearest_label_field(
    points: np.ndarray, owner: np.ndarray, n: int, shape: tuple[int, int], scale: float
) -> LabelField:
    """Draw ``n`` polylines (``points`` grouped by ``owner``) on a raster ``scale`` × the
    frame ``shape`` (H, W) and take one distance transform with nearest-ink labels."""
    h, w = max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))
    canvas = np.zeros((h, w), np.int32)
    pix = np.round(points * scale).astype(np.int32)
    for k, line in enumerate(split_by_owner(pix, owner, n)):
        cv2.polylines(canvas, [line], False, k + 1, 1)
    src = cv2.compare(canvas, 0, cv2.CMP_EQ)  # 255 off the lines, 0 on them
    dist, labels = cv2.distanceTransformWithLabels(
        src, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # DIST_LABEL_PIXEL numbers ink pixels 1.. in row-major order: map each to its polyline.
    lut = np.concatenate([[_NONE], canvas[src == 0] - 1]).astype(np.int32)
    return LabelField(dist, labels, lut, scale)


def directed_costs(
    points: np.ndarray, owner: np.ndarray, n: int, field: LabelField, truncate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truncated mean distance from each point set ``a`` (``points`` grouped by ``owner``,
    ``n`` sets) to each polyline ``b`` of ``field``.

    Returns ``(a, b, cost)`` for every pair where at least one point of ``a`` is nearest to
    ``b`` within ``truncate``; every other pair costs ``truncate``.
    """
    counts = np.bincount(owner, minlength=n)
    d, nearest = field.lookup(points)
    near = (nearest != _NONE) & (d < truncate)
    src, nearest, d = owner[near], nearest[near].astype(np.int64), d[near]
    n_targets = int(field.lut.max()) + 1
    keys, inverse = np.unique(src * n_targets + nearest, return_inverse=True)
    sums = np.bincount(inverse, weights=d)
    hits = np.bincount(inverse)
    a, b = keys // n_targets, keys % n_targets
    cost = (sums + truncate * (counts[a] - hits)) / counts[a]
    return a, b, cost


def _bboxes(points: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """``(n, 4)`` ``[x0, y0, x1, y1]`` of each group of a sorted ``owner``."""
    starts = np.cumsum(np.bincount(owner, minlength=n)) - np.bincount(owner, minlength=n)
    lo = np.minimum.reduceat(points, starts, axis=0)
    hi = np.maximum.reduceat(points, starts, axis=0)
    return np.hstack([lo, hi])


@dataclass
class Track:
    """One line's history: id, where it was last seen (moved by flow since), lifetime."""

    track_id: int
    points: np.ndarray
    first_frame: int
    last_frame: int
    length: int = 1
    lost: int = 0

    def row(self) -> dict[str, int]:
        return {
            "stroke_id": self.track_id,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "length": self.length,
        }


class StrokeTracker:
    """Stable ids for strokes across frames (see the module docstring for the method).

    ``gate_px`` is the largest matching cost; ``max_lost`` the frames a lost track survives;
    ``sample_step_px`` the spacing of compared points; the distance transforms run on a raster
    at most ``raster_width`` px wide.
    """

    def __init__(
        self,
        gate_px: float = 12.0,
        max_lost: int = 5,
        sample_step_px: float = 3.0,
        raster_width: int = 640,
    ) -> None:
        self.gate = float(gate_px)
        self.truncate = 2.0 * self.gate
        self.max_lost = int(max_lost)
        self.step = float(sample_step_px)
        self.raster_width = raster_width
        self.tracks: list[Track] = []
        self.finished: list[Track] = []
        self.next_id = 0

    def table(self) -> list[dict[str, int]]:
        """Every track so far: ``stroke_id``, ``first_frame``, ``last_frame``, ``length`` (frames
        seen)."""
        rows = [t.row() for t in (*self.finished, *self.tracks)]
        return sorted(rows, key=lambda r: r["stroke_id"])

    def cut(self) -> None:
        """The shot changed: every live track ends here; later strokes get new ids (ids are
        never reused)."""
        self.finished.extend(self.tracks)
        self.tracks = []

    def update(
        self,
        strokes: Sequence[Stroke],
        flow: np.ndarray | None,
        frame_index: int,
        frame_shape: tuple[int, int],
    ) -> list[Stroke]:
        """Track one frame: the strokes, in order, with their stable ids."""
        if self.tracks:
            moved = warp_points(np.concatenate([t.points for t in self.tracks]), flow)
            sizes = [len(t.points) for t in self.tracks]
            for track, points in zip(self.tracks, ragged.split(moved, sizes), strict=True):
                track.points = points
        points, owner = sample_strokes(strokes, self.step)
        matches = self._match(points, owner, len(strokes), frame_shape)
        samples = split_by_owner(points, owner, len(strokes))

        out: list[Stroke] = []
        seen = set()
        for j, stroke in enumerate(strokes):
            i = matches.get(j)
            if i is None:
                track = Track(self.next_id, samples[j], frame_index, frame_index)
                self.next_id += 1
                self.tracks.append(track)
            else:
                track = self.tracks[i]
                track.points, track.last_frame, track.lost = samples[j], frame_index, 0
                track.length += 1
            seen.add(track.track_id)
            out.append(stroke.evolve(stroke_id=track.track_id))

        alive = []
        for track in self.tracks:
            if track.track_id not in seen:
                track.lost += 1
            if track.lost > self.max_lost:
                self.finished.append(track)
            else:
                alive.append(track)
        self.tracks = alive
        return out

    def _match(
        self, points: np.ndarray, owner: np.ndarray, m: int, frame_shape: tuple[int, int]
    ) -> dict[int, int]:
        """``{stroke index: track index}`` for the accepted pairs."""
        n = len(self.tracks)
        if n == 0 or m == 0:
            return {}
        scale = min(1.0, self.raster_width / frame_shape[1])
        predicted = np.concatenate([t.points for t in self.tracks])
        track_of = np.repeat(np.arange(n), [len(t.points) for t in self.tracks])
        stroke_field = nearest_label_field(points, owner, m, frame_shape, scale)
        track_field = nearest_label_field(predicted, track_of, n, frame_shape, scale)
        a, b, forward = directed_costs(predicted, track_of, n, stroke_field, self.truncate)
        c, d, backward = directed_costs(points, owner, m, track_field, self.truncate)
        # Pair (track i, stroke j): union of both directions, the missing one costs T.
        keys = np.concatenate([a * m + b, d * m + c])
        keys, inverse = np.unique(keys, return_inverse=True)
        fwd = np.full(len(keys), self.truncate)
        bwd = np.full(len(keys), self.truncate)
        fwd[inverse[: len(a)]] = forward
        bwd[inverse[len(a) :]] = backward
        rows, cols = keys // m, keys % m
        cost = 0.5 * (fwd + bwd)
        cost += 0.05 * self.gate * np.array([t.lost for t in self.tracks])[rows]

        box_t = _bboxes(predicted, track_of, n)[rows]
        box_s = _bboxes(points, owner, m)[cols]
        g = self.gate
        overlap = (
            (box_t[:, 0] - g <= box_s[:, 2])
            & (box_s[:, 0] - g <= box_t[:, 2])
            & (box_t[:, 1] - g <= box_s[:, 3])
            & (box_s[:, 1] - g <= box_t[:, 3])
        )
        keep = overlap & (cost <= self.gate)
        rows, cols, cost = rows[keep], cols[keep], cost[keep]
        if len(rows) == 0:
            return {}
        return _assign(rows, cols, cost, n, m)


def _assign(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, n: int, m: int) -> dict[int, int]:
    """Minimum-cost one-to-one assignment over candidate pairs, solved per connected group."""
    graph = coo_matrix((np.ones(len(rows)), (rows, n + cols)), shape=(n + m, n + m))
    _, component = connected_components(graph, directed=False)
    group = component[rows]
    order = np.argsort(group, kind="stable")
    rows, cols, cost, group = rows[order], cols[order], cost[order], group[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    matches: dict[int, int] = {}
    single = ends - starts == 1
    for k in starts[single]:  # the common case: one track, one stroke
        matches[int(cols[k])] = int(rows[k])
    for s, e in zip(starts[~single], ends[~single], strict=True):
        r_ids, r_idx = np.unique(rows[s:e], return_inverse=True)
        c_ids, c_idx = np.unique(cols[s:e], return_inverse=True)
        sub = np.full((len(r_ids), len(c_ids)), 1e9)
        sub[r_idx, c_idx] = cost[s:e]
        for r, c in zip(*linear_sum_assignment(sub), strict=True):
            if sub[r, c] < 1e9:
                matches[int(c_ids[c])] = int(r_ids[r])
    return matches


def delta_kappa(
    previous: dict[int, float], strokes: Sequence[Stroke]
) -> tuple[float | None, dict[int, float]]:
    """Mean ``|κ(t+1) − κ(t)|`` over strokes whose id was also in the previous frame.

    ``κ`` is :attr:`Stroke.mean_curvature` (1/px). ``previous`` maps id → κ of the previous
    frame. Returns the mean (None when no id carried over) and this frame's map.
    """
    current = dict(
        zip((s.stroke_id for s in strokes), mean_curvatures(strokes).tolist(), strict=True)
    )
    diffs = [abs(k - previous[i]) for i, k in current.items() if i in previous]
    return (float(np.mean(diffs)) if diffs else None), current


def table_summary(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Count and median length (frames) of a track table."""
    lengths = [r["length"] for r in rows]
    return {
        "tracks": float(len(rows)),
        "median_track_length": float(np.median(lengths)) if lengths else 0.0,
    }
