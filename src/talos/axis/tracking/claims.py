"""Which tracked line each point of a frame's strokes lies on: claims, and runs of claims.

A *claim* ties a point sampled on a stroke of frame ``t`` to the tracked line (predicted
from frame ``t−1``) whose nearest predicted point lies within ``radius`` px. Claims are per
point, not per stroke, so one stroke can lie on two tracked lines (the vectorizer joined them
at a junction) and two strokes on one (it broke the line): the tracker re-cuts and re-joins
strokes to follow the lines (:mod:`talos.axis.tracking.tracker`).

Before claiming, each tracked line's prediction is corrected by one translation
(:func:`refine_offsets`, one step of ICP): the median offset from its points to the nearest
stroke points within the gate. The flow that moved the prediction is blended across motion
boundaries, where silhouettes are, and is estimated at a lower resolution; the correction
takes out most of that error, so the claim radius can stay small and two lines that cross
are told apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

UNCLAIMED = -1


def group_median(values: np.ndarray, group: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group median of ``values`` ``(K,)`` by ``group`` ``(K,)`` in ``[0, n)``:
    ``(medians (n,), counts (n,))``; 0 for empty groups (lower median for even counts)."""
    counts = np.bincount(group, minlength=n)
    out = np.zeros(n)
    if len(values) == 0:
        return out, counts
    order = np.lexsort((values, group))
    starts = np.cumsum(counts) - counts
    has = counts > 0
    out[has] = values[order][starts[has] + (counts[has] - 1) // 2]
    return out, counts


def refine_offsets(
    predicted: np.ndarray,
    track_of: np.ndarray,
    n_tracks: int,
    observed: np.ndarray,
    gate: float,
    min_share: float = 0.2,
) -> np.ndarray:
    """One translation per tracked line, ``(n_tracks, 2)`` px, to add to its prediction.

    For every predicted point ``p`` (``predicted`` ``(N, 2)``, line ``track_of`` ``(N,)``),
    ``q`` is the nearest ``observed`` point ``(M, 2)`` within ``gate`` px; a line's offset is
    the per-axis median of ``q − p`` over its points that found one, or 0 when fewer than
    ``max(3, min_share × its points)`` did (nothing reliable to correct by).
    """
    offsets = np.zeros((n_tracks, 2))
    if len(predicted) == 0 or len(observed) == 0:
        return offsets
    distance, nearest = cKDTree(observed).query(predicted, distance_upper_bound=gate)
    found = np.isfinite(distance)
    group = track_of[found]
    delta = observed[nearest[found]] - predicted[found]
    mx, counts = group_median(delta[:, 0], group, n_tracks)
    my, _ = group_median(delta[:, 1], group, n_tracks)
    enough = counts >= np.maximum(3, min_share * np.bincount(track_of, minlength=n_tracks))
    offsets[enough] = np.column_stack([mx, my])[enough]
    return offsets


@dataclass(frozen=True)
class Claims:
    """Per stroke sample: the tracked line it lies on (``track``, :data:`UNCLAIMED` if none)
    and the index of the nearest point of that line's prediction (``position``, −1 if none)."""

    track: np.ndarray
    position: np.ndarray


def claim_points(
    points: np.ndarray,
    predicted: np.ndarray,
    track_of: np.ndarray,
    track_start: np.ndarray,
    radius: float,
) -> Claims:
    """Claims of ``points`` ``(P, 2)`` on the tracked lines whose predicted points are
    ``predicted`` ``(N, 2)`` (line ``track_of`` ``(N,)``; line ``i``'s points start at row
    ``track_start[i]``): the nearest predicted point within ``radius`` px."""
    track = np.full(len(points), UNCLAIMED, np.int64)
    position = np.full(len(points), -1, np.int64)
    if len(points) == 0 or len(predicted) == 0:
        return Claims(track, position)
    distance, nearest = cKDTree(predicted).query(points, distance_upper_bound=radius)
    found = np.isfinite(distance)
    track[found] = track_of[nearest[found]]
    position[found] = nearest[found] - track_start[track[found]]
    return Claims(track, position)


def runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Run-length encoding of a 1-D integer sequence: ``[(label, start, stop), ...]``,
    ``stop`` exclusive."""
    if len(labels) == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(labels)]])
    return list(zip(labels[starts].tolist(), starts.tolist(), stops.tolist(), strict=True))


def clean_labels(labels: np.ndarray, min_run: int, closed: bool = False) -> np.ndarray:
    """The claims along one stroke made into stretches of one line each.

    1. A stroke claimed by one line only (or by none) is that line's throughout.
    2. Stretches claimed by a line for fewer than ``min_run`` samples (where two lines cross,
       both predictions are near) are dropped; the longest claimed stretch always stays.
    3. Unclaimed stretches (a line grew, or the prediction missed) go to the claimed
       neighbours: to the one line on both sides, to the only neighbour at an end, or half
       and half between two lines. On a ``closed`` stroke the sequence is circular.
    """
    labels = np.asarray(labels, np.int64).copy()
    claimed = np.unique(labels[labels != UNCLAIMED])
    if len(claimed) <= 1:
        labels[:] = claimed[0] if len(claimed) else UNCLAIMED
        return labels
    claimed_runs = [r for r in runs(labels) if r[0] != UNCLAIMED]
    keep = max(claimed_runs, key=lambda r: r[2] - r[1])
    for run in claimed_runs:
        label, start, stop = run
        if stop - start < min_run and run != keep:
            labels[start:stop] = UNCLAIMED
    shift = 0
    if closed and labels[0] == UNCLAIMED and (labels != UNCLAIMED).any():
        shift = int(np.flatnonzero(labels != UNCLAIMED)[0])  # start on a claimed sample
        labels = np.roll(labels, -shift)
    stretch = runs(labels)
    for k, (label, start, stop) in enumerate(stretch):
        if label != UNCLAIMED:
            continue
        before = stretch[k - 1][0] if k > 0 else (stretch[-1][0] if closed else UNCLAIMED)
        wrap = stretch[0][0] if closed else UNCLAIMED
        after = stretch[k + 1][0] if k + 1 < len(stretch) else wrap
        if before in (UNCLAIMED, after):
            labels[start:stop] = after
        elif after == UNCLAIMED:
            labels[start:stop] = before
        else:
            middle = (start + stop) // 2
            labels[start:middle], labels[middle:stop] = before, after
    return np.roll(labels, shift) if shift else labels
