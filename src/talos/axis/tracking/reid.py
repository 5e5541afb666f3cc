"""Re-identification: a line hidden for longer than ``max_lost`` frames gets its id back.

A track that has been lost for ``max_lost`` frames (hidden behind an occluder, out of the
frame, or not detected) becomes *dormant*. While dormant it keeps moving at its last velocity
(the flow where it is hidden belongs to whatever hides it), for at most ``max_age`` frames.
A stroke that no live track claims is compared with the dormant tracks near it: its points
are aligned to each candidate by translation (two steps of ICP, the nearest candidate point
for each stroke point), and the candidate wins when the stroke's mean distance to it is at
most ``radius`` px after a shift of at most ``reach`` px, the stroke is not much longer than
the line was, and no other candidate fits better (``cost = mean distance + shift / 20``).

Memory is bounded: at most ``capacity`` dormant tracks (the oldest go first), each the
points of one line; tracks seen for fewer than ``min_frames`` frames (specks, flicker) are
not kept.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from scipy.spatial import cKDTree

from talos.axis.tracking.claims import Nearest
from talos.axis.tracking.tracks import Track

_SHIFT_WEIGHT = 0.05  # px of mean distance a px of shift costs, between equally good fits
_LONGER = 1.5  # a returning stroke may be this much longer than the line was


def _length(points: np.ndarray) -> float:
    return float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0


class DormantTracks:
    """The dormant tracks of a shot (see the module docstring)."""

    def __init__(
        self,
        max_age: int = 48,
        capacity: int = 256,
        radius: float = 4.0,
        reach: float = 48.0,
        min_frames: int = 3,
    ) -> None:
        self.max_age, self.capacity = int(max_age), int(capacity)
        self.radius, self.reach, self.min_frames = float(radius), float(reach), int(min_frames)
        self.tracks: list[Track] = []
        self.age: list[int] = []

    def __len__(self) -> int:
        return len(self.tracks)

    def add(self, track: Track) -> bool:
        """Keep ``track`` for re-identification; False if it is not worth keeping (too
        short-lived, or re-identification is off)."""
        if self.max_age <= 0 or track.length < self.min_frames or len(track.points) < 2:
            return False
        self.tracks.append(track)
        self.age.append(0)
        if len(self.tracks) > self.capacity:
            self.tracks.pop(0)
            self.age.pop(0)
        return True

    def advance(self) -> list[Track]:
        """One frame passes: every dormant track moves by its velocity; those older than
        ``max_age`` are returned (their ids die)."""
        expired, tracks, ages = [], [], []
        for track, age in zip(self.tracks, self.age, strict=True):
            if age + 1 > self.max_age:
                expired.append(track)
                continue
            track.points = track.points + track.velocity
            tracks.append(track)
            ages.append(age + 1)
        self.tracks, self.age = tracks, ages
        return expired

    def clear(self) -> list[Track]:
        """Every dormant track ends (a scene cut)."""
        out, self.tracks, self.age = self.tracks, [], []
        return out

    def match(self, points: np.ndarray) -> Track | None:
        """The dormant track that the stroke sampled at ``points`` ``(m, 2)`` continues, removed
        from the pool; None if none fits."""
        if not self.tracks or len(points) < 2:
            return None
        lo, hi = points.min(axis=0) - self.reach, points.max(axis=0) + self.reach
        length = _length(points)
        best, best_cost = -1, np.inf
        for k, track in enumerate(self.tracks):
            tp = track.points
            if (tp.max(axis=0) < lo).any() or (tp.min(axis=0) > hi).any():
                continue
            if length > _LONGER * _length(tp) + 2 * self.radius:
                continue
            tree = cKDTree(tp)
            shift = np.zeros(2)
            for _ in range(2):
                _, nearest = tree.query(points + shift)
                shift = shift + np.median(tp[nearest] - (points + shift), axis=0)
            if float(np.hypot(*shift)) > self.reach:
                continue
            distance, _ = cast(Nearest, tree.query(points + shift))
            mean = float(distance.mean())
            cost = mean + _SHIFT_WEIGHT * float(np.hypot(*shift))
            if mean <= self.radius and cost < best_cost:
                best, best_cost = k, cost
        if best < 0:
            return None
        self.age.pop(best)
        return self.tracks.pop(best)
