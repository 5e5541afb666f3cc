"""Which tracked line each point of a frame's strokes lies on: claims, and runs of claims.

A *claim* ties a point sampled on a stroke of frame ``t`` to the tracked line (predicted
from frame ``t−1``) whose nearest predicted point lies within ``radius`` px. Claims are per
point, not per stroke, so one stroke can lie on two tracked lines (the vectorizer joined them
at a junction) and two strokes on one (it broke the line): the tracker re-cuts and re-joins
strokes to follow the lines (:mod:`talos.axis.tracking.tracker`).

Before claiming, each tracked line's prediction is corrected by one translation
(:func:`refine_offsets`, point-to-line ICP): what best lays its points onto the nearest
stroke points within the gate. The flow that moved the prediction is blended across motion
boundaries, where silhouettes are, and is estimated at a lower resolution; the correction
takes out most of that error, so the claim radius can stay small and two lines that cross
are told apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

UNCLAIMED = -1
# Predicted points looked at around each stroke point: at 3 px sampling and a 4 px radius
# three lines' points at most lie within reach.
_CANDIDATES = 8

# What cKDTree.query returns for (N, 2) points: distances and indices, both (N,) (scipy-stubs
# types its result as scalar-or-array, whatever the points' shape).
Nearest = tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]


def curve_normals(points: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Unit normals ``(P, 2)`` of polylines given as ``points`` ``(P, 2)`` grouped by a sorted
    ``owner`` ``(P,)``: the tangent by central differences within each polyline (one-sided at
    its ends), turned 90°; ``(0, 0)`` for a polyline of one point."""
    if len(points) == 0:
        return np.zeros((0, 2))
    ahead = np.vstack([points[1:], points[-1:]])
    behind = np.vstack([points[:1], points[:-1]])
    same_ahead = np.r_[owner[1:] == owner[:-1], False]
    same_behind = np.r_[False, owner[1:] == owner[:-1]]
    tangent = np.where(same_ahead[:, None], ahead, points) - np.where(
        same_behind[:, None], behind, points
    )
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    unit = np.divide(tangent, norm[:, None], out=np.zeros_like(tangent), where=norm[:, None] > 0)
    return np.column_stack([-unit[:, 1], unit[:, 0]])


def refine_offsets(
    predicted: np.ndarray,
    track_of: np.ndarray,
    n_tracks: int,
    observed: np.ndarray,
    normals: np.ndarray,
    gate: float,
    min_share: float = 0.2,
    steps: int = 2,
) -> np.ndarray:
    """One translation per tracked line, ``(n_tracks, 2)`` px, to add to its prediction.

    ``steps`` rounds of point-to-line ICP restricted to translation: every predicted point
    ``p`` (``predicted`` ``(N, 2)``, line ``track_of`` ``(N,)``), shifted by its line's offset
    ``d`` so far, pairs with the nearest ``observed`` point ``q`` ``(M, 2)`` within ``gate``
    px, whose curve normal is ``n`` (``normals`` ``(M, 2)``, :func:`curve_normals`). The step
    minimises ``Σ (n · (p + d + δ − q))²`` over the line's pairs:
    ``(Σ n nᵀ + λ I) δ = Σ n (n · (q − p − d))``, with a small ``λ`` so that motion along a
    straight line, which no point pair can see, stays 0 (the flow's estimate) instead of
    sliding. A line with fewer than ``max(3, min_share × its points)`` pairs keeps its
    offset; no line moves further than ``gate`` in all.
    """
    offsets = np.zeros((n_tracks, 2))
    if len(predicted) == 0 or len(observed) == 0:
        return offsets
    tree = cKDTree(observed)
    needed = np.maximum(3, min_share * np.bincount(track_of, minlength=n_tracks))
    for _ in range(steps):
        moved = predicted + offsets[track_of]
        distance, nearest = cast(Nearest, tree.query(moved, distance_upper_bound=gate))
        found = np.isfinite(distance)
        group = track_of[found]
        n = normals[nearest[found]]
        residual = np.einsum("ij,ij->i", n, observed[nearest[found]] - moved[found])
        counts = np.bincount(group, minlength=n_tracks)
        a = np.stack(
            [np.bincount(group, n[:, i] * n[:, j], n_tracks) for i, j in ((0, 0), (0, 1), (1, 1))]
        )
        lam = 0.05 * np.maximum(counts, 1)
        b0 = np.bincount(group, n[:, 0] * residual, n_tracks)
        b1 = np.bincount(group, n[:, 1] * residual, n_tracks)
        a00, a01, a11 = a[0] + lam, a[1], a[2] + lam
        det = a00 * a11 - a01 * a01
        step = np.column_stack([a11 * b0 - a01 * b1, a00 * b1 - a01 * b0]) / det[:, None]
        step[counts < needed] = 0.0
        total = offsets + step
        within = np.hypot(total[:, 0], total[:, 1]) <= gate
        offsets[within] = total[within]
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
    owner: np.ndarray | None = None,
) -> Claims:
    """Claims of ``points`` ``(P, 2)`` on the tracked lines whose predicted points are
    ``predicted`` ``(N, 2)`` (line ``track_of`` ``(N,)``; line ``i``'s points start at row
    ``track_start[i]``): the nearest predicted point within ``radius`` px.

    With ``owner`` ``(P,)`` (the stroke of each point, sorted), a run of points claimed by
    another line that lie within ``radius`` of the stroke's *main* line (the line whose
    prediction reaches most of its points; of two, the one nearest to more) throughout goes
    to the main line: where two predictions lie on one stretch of a stroke, the stroke is
    the line it follows. An occluder's outline sweeping over a line it hides passes through
    that line's prediction for a frame or two, and would otherwise cut a piece out of
    itself with the hidden line's id (which it then kept for good).
    """
    track = np.full(len(points), UNCLAIMED, np.int64)
    position = np.full(len(points), -1, np.int64)
    if len(points) == 0 or len(predicted) == 0:
        return Claims(track, position)
    tree = cKDTree(predicted)
    distance, nearest = cast(Nearest, tree.query(points, distance_upper_bound=radius))
    found = np.isfinite(distance)
    track[found] = track_of[nearest[found]]
    position[found] = nearest[found] - track_start[track[found]]
    if owner is None or not found.any():
        return Claims(track, position)
    # Only strokes that two lines claim can hold another line's run on their main line.
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    lowest, highest = claim_range(track, starts)
    mixed = np.repeat(lowest < highest, np.diff(np.r_[starts, len(owner)]))
    if mixed.any():
        track[mixed], position[mixed] = _to_main_lines(
            points[mixed], owner[mixed], tree, track_of, track_start, radius
        )
    return Claims(track, position)


def claim_range(track: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and the highest line claiming each stroke, ``(S,)`` each, from the claims
    ``track`` ``(P,)`` of strokes whose samples start at rows ``starts`` ``(S,)``. Unclaimed
    samples count for no line: lowest < highest where two or more lines claim a stroke,
    lowest > highest where none does."""
    if len(track) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    claimed = np.where(track == UNCLAIMED, np.iinfo(np.int64).max, track)
    return np.minimum.reduceat(claimed, starts), np.maximum.reduceat(track, starts)


def _to_main_lines(
    points: np.ndarray,
    owner: np.ndarray,
    tree: cKDTree,
    track_of: np.ndarray,
    track_start: np.ndarray,
    radius: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The claims of ``points`` ``(P, 2)`` of strokes that two or more lines claim
    (``owner`` ``(P,)``, sorted; ``tree`` holds the predicted points), under
    :func:`claim_points`' main-line rule: their tracks and positions ``(P,)``."""
    track = np.full(len(points), UNCLAIMED, np.int64)
    position = np.full(len(points), -1, np.int64)
    k = min(_CANDIDATES, len(track_of))
    distance, nearest = cast(Nearest, tree.query(points, k=k, distance_upper_bound=radius))
    distance, nearest = distance.reshape(len(points), k), nearest.reshape(len(points), k)
    # The nearest claims again, from this query: where two lines' points are equally near,
    # the one it lists first must be the one the rule below sees as nearest.
    found = np.isfinite(distance[:, 0])
    track[found] = track_of[nearest[found, 0]]
    position[found] = nearest[found, 0] - track_start[track[found]]
    # The main line of each stroke: the line whose prediction reaches most of its points.
    n_tracks = len(track_start)
    within = np.isfinite(distance)
    line = track_of[np.where(within, nearest, 0)]  # (P, k): the line of each candidate
    candidate = np.sort(np.where(within, line, n_tracks), 1)
    first_of_row = np.c_[np.ones(len(points), bool), np.diff(candidate, axis=1) > 0]
    valid = first_of_row & (candidate < n_tracks)
    key = np.broadcast_to(owner[:, None], candidate.shape)[valid] * n_tracks + candidate[valid]
    pairs, counts = np.unique(key, return_counts=True)
    # Ties go to the line nearest to more of the points.
    nearer = np.zeros(len(pairs), np.int64)
    np.add.at(nearer, np.searchsorted(pairs, owner[found] * n_tracks + track[found]), 1)
    order = np.lexsort((-nearer, -counts, pairs // n_tracks))
    first = np.r_[True, np.diff(pairs[order] // n_tracks) > 0]
    main = np.full(int(owner.max()) + 1, UNCLAIMED, np.int64)
    main[pairs[order][first] // n_tracks] = pairs[order][first] % n_tracks
    on_main = within & (line == main[owner][:, None])
    # Runs of another line's claims along a stroke that lie on the main line throughout.
    # (A run that leaves it is a line of its own: two lines crossing, or joined at a corner.)
    key = owner * (n_tracks + 1) + track + 1
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    contested = np.minimum.reduceat(on_main.any(axis=1), start)
    other = (track[start] != UNCLAIMED) & (track[start] != main[owner[start]])
    take = np.repeat(contested & other, np.diff(np.r_[start, len(track)]))
    column = np.argmax(on_main[take], axis=1)  # the main line's nearest point (k is sorted)
    track[take] = main[owner[take]]
    position[take] = nearest[take, column] - track_start[track[take]]
    return track, position


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
