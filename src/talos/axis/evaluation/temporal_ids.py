"""Ids across a trace's frames, for the temporal evaluation
(:mod:`talos.axis.evaluation.temporal`): the ink-weighted track length and the id carry-over
(:class:`IdentityInk`).

``stroke_id`` is an identity only for ids listed in ``lines.json`` ``tracks`` (the
tracker's table: ``stroke_id → length``, frames seen). With tracking off the table is empty
and the per-frame ids ``0, 1, …`` are labels, not identities: every stroke is then a track
of one frame and nothing carries over. With ``ℓ_s`` the arc length (px) of stroke ``s`` in
some frame:

- **ink-weighted track length**: the weighted median of ``life(track(s))`` (frames) over all
  strokes of all frames, weights ``ℓ_s``: the smallest ``L`` such that strokes on tracks of
  at most ``L`` frames hold at least half the ink. Unlike the median over tracks, a thousand
  one-frame specks do not outvote the long outlines;
- **id carry-over**: ``Σ_{t≥1} Σ_{s ∈ t, id(s) ∈ ids(t−1)} ℓ_s / Σ_{t≥1} Σ_{s ∈ t} ℓ_s``, the
  share of ink (frames after the first) whose id was in the previous frame. None for a
  one-frame trace;
- **shape wobble** (:class:`ShapeWobble`): how much a line changes *shape* from one frame to
  the next once its motion is taken out: for each id in both frames, last frame's polyline
  is brought onto this frame's by the best similarity (ICP: started from the similarity
  matching points at equal arc-length fractions, then :data:`WOBBLE_ICP_STEPS`
  least-squares steps to the nearest points), and the mean
  distance between the two (both ways, averaged) is its wobble; reported as the weighted
  median over strokes, weights ``ℓ_s``, px; and the **still share**, the share of that ink
  whose wobble is at most :data:`STILL_PX`. Re-fitting a still or rigidly moving line
  every frame shows here as sub-pixel "boiling" that a 2 px temporal F cannot see. Only ids
  of the track table count (with tracking off there are none: no figure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from talos.axis.evaluation.flow_maps import Polylines, as_open
from talos.axis.geometry.sampling import points_along, polyline_lengths
from talos.axis.geometry.similarity import GroupedPolylines, apply_similarity, fit_similarity

WOBBLE_ICP_STEPS = 8
_INIT_POINTS = 32  # arc-length samples per polyline for ICP's start
STILL_PX = 0.1  # px: a line that changed shape by at most this kept its shape


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float | None:
    """The smallest ``v`` of ``values`` with ``Σ_{values ≤ v} weights ≥ Σ weights / 2``;
    None when the total weight is 0."""
    values, weights = np.asarray(values, np.float64), np.asarray(weights, np.float64)
    total = float(weights.sum())
    if total <= 0:
        return None
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * total)])


def frame_ids(frame: Mapping[str, Any]) -> np.ndarray:
    """``(K,)`` int64 ``stroke_id`` of each polyline :func:`stroke_polylines` returns for
    ``frame``, in its order (strokes with a Bézier chain, then circles, then triangles); -1
    for a primitive without an id."""
    ids = [int(s["stroke_id"]) for s in frame.get("strokes", []) if len(s.get("bezier", ())) >= 1]
    ids += [
        -1 if item.get("stroke_id") is None else int(item["stroke_id"])
        for key in ("circles", "triangles")
        for item in frame.get(key, [])
    ]
    return np.asarray(ids, np.int64)


def arc_lengths(polylines: Polylines) -> np.ndarray:
    """``(K,)`` float64 arc length (px) of each polyline, the closing segment of a closed
    one included (0 for fewer than two points); all polylines in one pass."""
    if not polylines:
        return np.zeros(0)
    pieces = [as_open(points, closed) for points, closed in polylines]
    sizes = [len(piece) for piece in pieces]
    owner = np.repeat(np.arange(len(pieces)), sizes)
    return polyline_lengths(np.concatenate(pieces).reshape(-1, 2), owner, len(pieces))


@dataclass
class IdentityInk:
    """Ink-weighted track length and id carry-over of one trace, frame by frame.

    ``track_life`` maps ``stroke_id → frames seen`` (``lines.json`` ``tracks``); ids not in
    it are per-frame labels (a track of one frame that carries nothing over).
    """

    track_life: Mapping[int, int]
    lives: list[np.ndarray] = field(default_factory=list)
    ink: list[np.ndarray] = field(default_factory=list)
    carried: float = 0.0
    ink_after_first: float = 0.0
    frames: int = 0
    _previous: np.ndarray | None = None

    def __post_init__(self) -> None:
        table = sorted(self.track_life.items())
        self._ids = np.array([i for i, _ in table], np.int64)
        self._life = np.array([n for _, n in table], np.float64)

    def add(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        """One frame: ``(K,)`` int ids and ``(K,)`` arc lengths (px) of its strokes."""
        ids = np.asarray(ids, np.int64)
        lengths = np.asarray(lengths, np.float64)
        at = np.minimum(np.searchsorted(self._ids, ids), max(len(self._ids) - 1, 0))
        known = self._ids[at] == ids if len(self._ids) else np.zeros(len(ids), bool)
        self.lives.append(np.where(known, self._life[at] if len(self._ids) else 1.0, 1.0))
        self.ink.append(lengths)
        if self._previous is not None:
            self.carried += float(lengths[known & np.isin(ids, self._previous)].sum())
            self.ink_after_first += float(lengths.sum())
        self._previous = ids[known]
        self.frames += 1

    def to_dict(self) -> dict[str, Any]:
        """``ink_weighted_track_length`` (frames; None without ink), ``id_carry_over``
        (share; None for one frame or no ink after the first) and ``tracks``."""
        lives = np.concatenate(self.lives) if self.lives else np.zeros(0)
        ink = np.concatenate(self.ink) if self.ink else np.zeros(0)
        carry = self.carried / self.ink_after_first if self.ink_after_first > 0 else None
        return {
            "ink_weighted_track_length": weighted_median(lives, ink),
            "id_carry_over": None if carry is None else round(carry, 4),
            "tracks": len(self.track_life),
        }


@dataclass
class ShapeWobble:
    """Shape wobble of one trace, frame by frame (see the module docstring); ``track_ids``
    the ids of ``lines.json`` ``tracks``."""

    track_ids: set[int]
    values: list[np.ndarray] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    _previous: dict[int, np.ndarray] = field(default_factory=dict)

    def add(self, ids: np.ndarray, polylines: Polylines, lengths: np.ndarray) -> None:
        """One frame: ``(K,)`` int ids, the strokes' polylines and their arc lengths
        (:func:`arc_lengths`, px), in the same order; ids not in the track table and ids
        drawn twice in a frame are left out."""
        counts: dict[int, int] = {}
        for i in ids:
            counts[int(i)] = counts.get(int(i), 0) + 1
        current = {
            int(i): as_open(points, closed)
            for i, (points, closed) in zip(ids, polylines, strict=True)
            if int(i) in self.track_ids and counts[int(i)] == 1 and len(points) >= 2
        }
        length = {int(i): float(x) for i, x in zip(ids, lengths, strict=True)}
        both = [i for i in current if i in self._previous]
        if both:
            self.values.append(
                _wobble([self._previous[i] for i in both], [current[i] for i in both])
            )
            self.weights.append(np.array([length[i] for i in both]))
        self._previous = current

    def to_dict(self) -> dict[str, Any]:
        """``shape_wobble_px``, the ink-weighted median wobble (px), and
        ``shape_still_share``; None without pairs."""
        empty = [np.zeros(0)]
        values = np.concatenate(self.values or empty)
        weights = np.concatenate(self.weights or empty)
        median = weighted_median(values, weights)
        total = float(weights.sum())
        still = float(weights[values <= STILL_PX].sum()) / total if total > 0 else None
        return {
            "shape_wobble_px": None if median is None else round(median, 4),
            "shape_still_share": None if still is None else round(still, 4),
        }


def _wobble(before: list[np.ndarray], after: list[np.ndarray]) -> np.ndarray:
    """Per pair of polylines, the mean two-way distance after the best similarity from
    ``before`` to ``after`` (px)."""
    n = len(before)
    p = np.concatenate(before)
    p_of = np.repeat(np.arange(n), [len(x) for x in before])
    q = np.concatenate(after)
    q_of = np.repeat(np.arange(n), [len(x) for x in after])
    target = GroupedPolylines(q, q_of)
    count_p = np.bincount(p_of, minlength=n)
    count_q = np.bincount(q_of, minlength=n)

    a, b = _initial_similarity(before, after)
    for _ in range(WOBBLE_ICP_STEPS):
        _, nearest = target.nearest(apply_similarity(p, a[p_of], b[p_of]), p_of)
        a, b = fit_similarity(p, nearest, p_of, n)
    moved = apply_similarity(p, a[p_of], b[p_of])
    forward, _ = target.nearest(moved, p_of)
    backward, _ = GroupedPolylines(moved, p_of).nearest(q, q_of)
    mean = 0.5 * (
        np.bincount(p_of, forward, n) / count_p + np.bincount(q_of, backward, n) / count_q
    )
    return mean


def _initial_similarity(
    before: list[np.ndarray], after: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the similarity matching points at the same arc-length fraction, the
    second polyline taken either way round (whichever fits better): ICP's start, right
    when the two span the same stretch of line, close when they do not."""
    n, m = len(before), _INIT_POINTS
    p = np.concatenate([points_along(x, m) for x in before])
    q = np.concatenate([points_along(x, m) for x in after])
    group = np.repeat(np.arange(n), m)
    flipped = q.reshape(n, m, 2)[:, ::-1].reshape(-1, 2)
    best_a, best_b = fit_similarity(p, q, group, n)
    other_a, other_b = fit_similarity(p, flipped, group, n)

    def residual(a: np.ndarray, b: np.ndarray, target: np.ndarray) -> np.ndarray:
        error = np.hypot(*(apply_similarity(p, a[group], b[group]) - target).T)
        return np.bincount(group, error, n)

    better = residual(other_a, other_b, flipped) < residual(best_a, best_b, q)
    return np.where(better, other_a, best_a), np.where(better, other_b, best_b)
