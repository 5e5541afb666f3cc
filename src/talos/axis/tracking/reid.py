"""Re-identification: a line hidden for longer than ``max_lost`` frames gets its id back.

A track that has been lost for ``max_lost`` frames (hidden behind an occluder, out of the
frame, or not detected) becomes *dormant*, as the line was last seen *whole*
(:attr:`~talos.axis.tracking.tracks.Track.whole`): a line going behind an occluder is seen
shorter and shorter, and its last sliver is no shape to know it by when it comes back.
While dormant it keeps moving at its last velocity (the flow where it is hidden belongs to
whatever hides it), for at most ``max_age`` frames.

A stroke that no live track claims is compared with the dormant tracks near it. (The
tracker runs the same test, :meth:`DormantTracks.best`, on a piece that breaks off a live
line's stroke, against the dormant tracks, and on an unclaimed stroke against the live
tracks that frame does not see.) Its points
are aligned to each candidate by translation (two steps of ICP, the nearest candidate point
for each stroke point, started both where the candidate was predicted and with the two
centres on each other; for a stroke that touches the frame's border and is much shorter
than the candidate, also with its centre on each of :data:`ANCHORS` points along it: a line
coming back into the frame shows first its part nearest the edge, which the other two
starts lay across a loop or onto its far side). The candidate is the line come back when

* the stroke's mean distance to it is at most ``radius`` px after a shift of at most
  ``reach`` px, plus :data:`REACH_GROWTH` of that for every frame it has been dormant
  (what hides a line hides how it moved);
* the stroke is not much longer than the line was, nor shorter than :data:`LEAST_SHARE`
  of it (a scrap could be any line's);
* a closed stroke (a whole line) continues a closed line that also lies on it;
* with the frame given, it *looks* the same: the colours either side of the stroke
  (:func:`side_colours`) and of the line where the stroke lies on it, when it was last seen
  whole, differ by at most :data:`LOOK_DELTA_E` (CIE ΔE) on either side. An eye and its
  pupil, a patch and a crease on the same body have the same shape and place, but not the
  same colours either side;
* and no other candidate fits better (``cost = mean distance + shift / 20``). The
  alignments that fit are tried cheapest first, and the first that looks the same counts:
  a short stroke may fit two parts of a line, and only one of them looks like it.

Two lines alike in shape and in look (two eyes of one body) that come back far from where
they were predicted can still trade ids.

A track seen for fewer than ``min_frames`` frames (a weak line the edges find one frame in
several: a fold, a pupil) is kept too, but has no motion to go by: it may come back only
as far as its own length, or ``least_reach``, from where it was.

Memory is bounded: at most ``capacity`` dormant tracks (the oldest go first), each the
points of one line and their colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import cv2
import numpy as np
from scipy.spatial import cKDTree

from talos.axis.geometry.sampling import polyline_length, sample_bilinear
from talos.axis.tracking.claims import Nearest, curve_normals
from talos.axis.tracking.tracks import Track

_SHIFT_WEIGHT = 0.05  # px of mean distance a px of shift costs, between equally good fits
_LONGER = 1.5  # a returning stroke may be this much longer than the line was
SIDE_PX = 3.0  # how far either side of a line its colours are read
LOOK_DELTA_E = 25.0  # CIE Lab ΔE on either side beyond which a returning line is another line
LEAST_SHARE = 0.15  # of the line seen whole: a shorter stroke is too little of it to know
REACH_GROWTH = 0.125  # of the reach, added for every frame a line has been dormant
ANCHORS = 12  # points along a line where a stroke coming into the frame also starts ...
_PART_SHARE = 0.6  # ... when it is shorter than this share of the line
BORDER_PX = 2.0  # a stroke this near the frame's edge comes into the frame


class DormantTracks:
    """The dormant tracks of a shot (see the module docstring)."""

    def __init__(
        self,
        max_age: int = 48,
        capacity: int = 256,
        radius: float = 4.0,
        reach: float = 48.0,
        min_frames: int = 3,
        least_reach: float = 12.0,
    ) -> None:
        self.max_age, self.capacity = int(max_age), int(capacity)
        self.radius, self.reach, self.min_frames = float(radius), float(reach), int(min_frames)
        self.least_reach = float(least_reach)
        self.tracks: list[Track] = []
        self.age: list[int] = []
        self.frame_shape: tuple[int, int] | None = None  # (H, W) of the frame being tracked

    def __len__(self) -> int:
        return len(self.tracks)

    def add(self, track: Track) -> bool:
        """Keep ``track`` for re-identification; False if it is not worth keeping (no line
        left, or re-identification is off)."""
        if self.max_age <= 0 or len(track.points) < 2:
            return False
        track.points, track.closed = track.whole, track.whole_closed
        self.tracks.append(track)
        self.age.append(0)
        if len(self.tracks) > self.capacity:
            self.tracks.pop(0)
            self.age.pop(0)
        return True

    def advance(self, frame_shape: tuple[int, int] | None = None) -> list[Track]:
        """One frame (``frame_shape`` ``(H, W)``, None: unknown) passes: every dormant track
        moves by its velocity; those older than ``max_age`` are returned (their ids die)."""
        self.frame_shape = frame_shape
        expired, tracks, ages = [], [], []
        for track, age in zip(self.tracks, self.age, strict=True):
            if age + 1 > self.max_age:
                expired.append(track)
                continue
            track.whole = track.whole + track.velocity
            track.points = track.whole
            tracks.append(track)
            ages.append(age + 1)
        self.tracks, self.age = tracks, ages
        return expired

    def clear(self) -> list[Track]:
        """Every dormant track ends (a scene cut)."""
        out, self.tracks, self.age = self.tracks, [], []
        return out

    def match(
        self, points: np.ndarray, closed: bool = False, look: np.ndarray | None = None
    ) -> Track | None:
        """The dormant track that the stroke sampled at ``points`` ``(m, 2)`` continues, removed
        from the pool; None if none fits (:meth:`best`)."""
        best = self.best(self.tracks, self.age, points, closed, look)
        if best < 0:
            return None
        self.age.pop(best)
        return self.tracks.pop(best)

    def best(
        self,
        candidates: Sequence[Track],
        ages: Sequence[int],
        points: np.ndarray,
        closed: bool = False,
        look: np.ndarray | None = None,
        bounded: bool = False,
    ) -> int:
        """Which of ``candidates`` (each as last seen whole, :attr:`Track.whole`, moved; gone
        for ``ages`` frames) the stroke sampled at ``points`` ``(m, 2)`` continues: its index,
        or −1 if none fits. A ``closed`` stroke is a whole line: it continues only a closed
        line, and that line must lie on it too. With ``look`` ``(m, 2, 3)`` (the stroke's
        :func:`side_colours`), a line that looked different either side where the stroke
        lies on it is not a candidate. A candidate seen for fewer than ``min_frames``
        frames, or any candidate when ``bounded``, may have moved no further than its own
        length or ``least_reach``."""
        if not candidates or len(points) < 2:
            return -1
        reach = self.reach * (1.0 + REACH_GROWTH * np.array(ages, np.float64))
        # A line seen a frame or two has no motion to go by, and a short line no shape to
        # tell it from its twin a little further (see the module docstring).
        near = np.array([bounded or t.length < self.min_frames for t in candidates])
        own = np.maximum(self.least_reach, [t.whole_length for t in candidates])
        reach = np.where(near, np.minimum(reach, own), reach)
        lo, hi = points.min(axis=0), points.max(axis=0)
        length = polyline_length(points)
        entering = self._entering(points)
        best, best_cost = -1, np.inf
        for k, track in enumerate(candidates):
            tp = track.whole
            if (tp.max(axis=0) < lo - reach[k]).any() or (tp.min(axis=0) > hi + reach[k]).any():
                continue
            line_length = track.whole_length
            if (
                (closed and not track.whole_closed)
                or length > _LONGER * line_length + 2 * self.radius
                or length < LEAST_SHARE * line_length
            ):
                continue
            tree = cKDTree(tp)
            part = entering and length < _PART_SHARE * line_length
            starts = _starts(tp, points, reach[k], part)
            fits = [_align(tree, tp, points, start) for start in starts]
            # Each alignment that fits, cheapest first: a short stroke may fit more than
            # one part of a line (either side of a loop), and only one looks the same.
            costs = [
                (mean + _SHIFT_WEIGHT * float(np.hypot(*shift)), j)
                for j, (mean, shift, _) in enumerate(fits)
                if mean <= self.radius and float(np.hypot(*shift)) <= reach[k]
            ]
            for cost, j in sorted(costs):
                if cost >= best_cost:  # no better than a candidate already found
                    break
                if self._fits(track, points, closed, look, *fits[j][1:]):
                    best, best_cost = k, cost
                    break
        return best

    def _entering(self, points: np.ndarray) -> bool:
        """Whether a stroke sampled at ``points`` ``(m, 2)`` touches the frame's border
        (within :data:`BORDER_PX`): a line coming into the frame, seen in part."""
        if self.frame_shape is None or len(points) == 0:
            return False
        height, width = self.frame_shape
        lo, hi = points.min(axis=0), points.max(axis=0)
        return bool(
            (lo <= BORDER_PX).any()
            or hi[0] >= width - 1 - BORDER_PX
            or hi[1] >= height - 1 - BORDER_PX
        )

    def _fits(
        self,
        track: Track,
        points: np.ndarray,
        closed: bool,
        look: np.ndarray | None,
        shift: np.ndarray,
        nearest: np.ndarray,
    ) -> bool:
        """Whether the stroke ``points``, aligned onto ``track``'s whole line by ``shift``
        (``nearest``: each point's nearest row of the line), is that line back: a closed
        stroke must have the line lie on it as well, and it must look the same (see
        :meth:`best`)."""
        line = track.whole
        if closed:
            back, _ = cast(Nearest, cKDTree(points + shift).query(line))
            if float(back.mean()) > self.radius:
                return False
        looked = track.whole_look
        return (
            look is None
            or looked is None
            or len(looked) != len(line)
            or look_difference(look, looked[nearest]) <= LOOK_DELTA_E
        )


def _starts(line: np.ndarray, points: np.ndarray, reach: float, part: bool) -> list[np.ndarray]:
    """Shifts to start aligning a stroke ``points`` ``(m, 2)`` onto a ``line`` ``(n, 2)``
    from: none (where it was predicted) and centre on centre; for a stroke that is a
    ``part`` of the line seen coming into the frame (much shorter, at the border), also the
    stroke's centre on each of :data:`ANCHORS` points spread along the line within
    ``reach`` px: that part lies along one stretch of the line, which the first two starts
    may not find (they lay it across a loop, or onto its far side)."""
    centre = points.mean(axis=0)
    starts = [np.zeros(2), line.mean(axis=0) - centre]
    if part:
        anchors = line[np.linspace(0, len(line) - 1, ANCHORS).round().astype(np.int64)]
        starts += [a - centre for a in anchors if np.hypot(*(a - centre)) <= reach]
    return starts


def _align(
    tree: cKDTree, target: np.ndarray, points: np.ndarray, shift: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Two ICP steps of ``points`` onto ``target`` (in ``tree``) by translation, from
    ``shift``: the mean distance after them, the shift ``(2,)`` and each point's nearest
    target row."""
    for _ in range(2):
        _, nearest = tree.query(points + shift)
        shift = shift + np.median(target[nearest] - (points + shift), axis=0)
    distance, nearest = cast(Nearest, tree.query(points + shift))
    return float(distance.mean()), shift, nearest


def side_colours(image: np.ndarray, points: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """The colour either side of every point of some lines, read :data:`SIDE_PX` px off the
    line along its normal: ``(P, 2, 3)`` float32 CIE Lab (L 0..100), the left side first
    (looking along the line's order; y runs down), NaN where that is outside the image.
    ``image`` ``(H, W, 3)`` uint8 BGR; ``points`` ``(P, 2)`` px, the lines' samples in
    order; ``owner`` ``(P,)`` sorted, their line; normals from
    :func:`~talos.axis.tracking.claims.curve_normals`."""
    if len(points) == 0:
        return np.zeros((0, 2, 3), np.float32)
    normal = curve_normals(points, owner)  # to the right of the line, looking along it
    sides = np.concatenate([points - SIDE_PX * normal, points + SIDE_PX * normal])
    # 8-bit Lab (L × 255/100, a and b + 128): a table lookup, where float Lab takes cube roots.
    lab8 = cv2.cvtColor(sample_bilinear(image, sides).reshape(-1, 1, 3), cv2.COLOR_BGR2Lab)
    lab = lab8.reshape(-1, 3).astype(np.float32) - np.array([0, 128, 128], np.float32)
    lab[:, 0] *= np.float32(100 / 255)
    height, width = image.shape[:2]
    outside = (sides < 0).any(axis=1) | (sides[:, 0] > width - 1) | (sides[:, 1] > height - 1)
    lab[outside] = np.nan
    colours: np.ndarray = lab.reshape(2, len(points), 3).transpose(1, 0, 2)
    return colours


def look_difference(a: np.ndarray, b: np.ndarray) -> float:
    """How differently two stretches of line look: ``a`` and ``b`` ``(m, 2, 3)``, the
    :func:`side_colours` of ``m`` points of each, point ``i`` of one where point ``i`` of the
    other lies. The larger CIE ΔE of the two sides' mean colours, with the sides paired the
    way that fits better (a line may come back traced the other way round); points read
    outside the image on either line are left out (0 where none is left)."""
    both = ~(np.isnan(a).any(axis=2) | np.isnan(b).any(axis=2))  # (m, 2)
    if not both.any(axis=0).all():
        return 0.0
    mean_a = np.stack([a[both[:, side], side].mean(axis=0) for side in range(2)])
    mean_b = np.stack([b[both[:, side], side].mean(axis=0) for side in range(2)])
    same = np.linalg.norm(mean_a - mean_b, axis=1).max()
    turned = np.linalg.norm(mean_a - mean_b[::-1], axis=1).max()
    return float(min(same, turned))
