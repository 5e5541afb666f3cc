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
  one-frame trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from talos.axis.evaluation.flow_maps import Polylines, as_open


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
    lengths = np.zeros(len(polylines))
    pieces = [as_open(points, closed) for points, closed in polylines]
    rows = [k for k, piece in enumerate(pieces) if len(piece) > 1]
    if not rows:
        return lengths
    flat = np.concatenate([pieces[k] for k in rows])
    sizes = np.array([len(pieces[k]) for k in rows], np.int64)
    ends = np.cumsum(sizes) - 1
    steps = np.zeros(len(flat))
    steps[:-1] = np.hypot(*np.diff(flat, axis=0).T)
    steps[ends] = 0.0  # the jump from one polyline's end to the next one's start
    lengths[rows] = np.add.reduceat(steps, ends - sizes + 1)
    return lengths


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
