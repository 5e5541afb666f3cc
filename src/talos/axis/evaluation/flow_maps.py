"""The moving parts of the temporal F (:mod:`talos.axis.evaluation.temporal`): the reference
flow, line maps moved by it (or by any point map), and a moved map scored against the next
frame's.

**Reference flow** (:func:`reference_flow`): DIS (Kroeger et al. 2016,
``cv2.DISOpticalFlow``, its ``MEDIUM`` preset: coarse-to-fine patch inverse search with
variational refinement, written out in :data:`REFERENCE_DIS`) on the grey frames of the
*source* video at the trace's processing resolution. It is not the pipeline's own estimate
(its ``flow`` step runs DIS ``FAST`` on frames at most 480 px wide by default), so the
tracker's errors are not taken as the truth. ``u`` is the forward flow:
``I_{t−1}(x) ≈ I_t(x + u(x))``, ``(H, W, 2)`` px. On the generated suite the true lines
themselves, moved by it, score a temporal F of 0.96 on the realistic 720p clip against 0.83
with Farnebäck at full size, which is off by more than 2 px at motion boundaries (README,
"Temporal coherence").

**Moving maps.** Polylines (strokes, true lines) are resampled every ``≤ 1 px`` of arc
length (:func:`densify`) and every point moves: by a flow read bilinearly
(:func:`move_polylines`) or by any point map such as the true motion
(:func:`move_polylines_by`). Moving points, not pixels, keeps a line connected where the
flow stretches it. A 1-px pixel map (the raw line map) moves pixel by pixel
(:func:`move_pixels`, :func:`move_pixels_by`).

**Where the flow can be trusted** (:func:`trusted_pixels`): the forward–backward check of
Sundaram, Brox and Keutzer (2010), which Ruder et al. (2016) and the warping error of Lai et
al. (2018) use to leave occlusions out of a temporal consistency score. A pixel of frame
``t`` that the backward flow sends to ``t−1`` and the forward flow does not send back is
something ``t−1`` did not show (a line coming out from behind an occluder or into the
frame), or a place where the flow is wrong (motion boundaries, blur): a line there that
the moved map misses is the yardstick's error, not boiling.

**Score** (:class:`TemporalScore`): frame ``t−1``'s moved map against frame ``t``'s at a
tolerance, and the map as it was (``u = 0``), counted over a clip's pairs; and the moved
map again, counted only on the trusted pixels (the *consistent F*).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from talos.axis.evaluation.boundaries import BoundaryCounts, LineMap, boundary_counts
from talos.axis.geometry import ragged
from talos.axis.geometry.sampling import sample_bilinear, sample_offset
from talos.axis.strategies.flow import dis_flow

TOLERANCE_PX = 2.0  # τ: a moved line counts within this distance of one, px
DENSIFY_STEP_PX = 1.0  # flow is read at least this often along a line, px
FLOW_METHOD = "DIS medium"
# DIS at the trace's resolution with OpenCV 5.1's MEDIUM preset written out (presets have
# changed between OpenCV versions): 8 px patches every 3 px down to pyramid level 1, 25
# gradient-descent steps, mean-normalised patches, spatial propagation, then 5 iterations of
# variational refinement (smoothness 20, colour 5, gradient 10). Fixed here, not read from
# Settings: the yardstick must not move with what it measures.
REFERENCE_DIS = {
    "FinestScale": 1,
    "PatchSize": 8,
    "PatchStride": 3,
    "GradientDescentIterations": 25,
    "UseMeanNormalization": True,
    "UseSpatialPropagation": True,
    "VariationalRefinementIterations": 5,
    "VariationalRefinementAlpha": 20.0,
    "VariationalRefinementDelta": 5.0,
    "VariationalRefinementGamma": 10.0,
}
# The forward–backward check's tolerance (Sundaram et al. 2010): a round trip may miss by
# this share of the two vectors' squared lengths, plus this many px².
CONSISTENCY_SHARE = 0.01
CONSISTENCY_PX2 = 0.5
MIN_FLOW_SIDE = 16  # px; DIS needs a patch at its finest level: a smaller frame gets zero flow

Polylines = list[tuple[np.ndarray, bool]]
Mover = Callable[[np.ndarray], np.ndarray]  # (N, 2) px -> (N, 2) px


# --- flow and moving maps -------------------------------------------------------------


def to_gray(image: np.ndarray) -> np.ndarray:
    """``image`` on one channel: a BGR frame made grey, a grey one as it is."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def reference_flow(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Forward optical flow ``previous → current``: ``(H, W, 2)`` float32, px (x, y).

    ``previous`` and ``current`` are ``(H, W, 3)`` uint8 BGR or ``(H, W)`` uint8 grey frames
    of one size. The flow ``u`` satisfies ``previous[y, x] ≈ current[y + u_y, x + u_x]``
    (DIS with the parameters :data:`REFERENCE_DIS`, at the frames' own size; the same bytes
    for any OpenCV thread count). Frames under :data:`MIN_FLOW_SIDE` px on a side get zero
    flow.
    """
    prev, cur = to_gray(previous), to_gray(current)
    if prev.shape != cur.shape:
        raise ValueError(f"flow needs two frames of one size, got {prev.shape} and {cur.shape}")
    if min(prev.shape) < MIN_FLOW_SIDE:
        return np.zeros((*prev.shape, 2), np.float32)
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    for name, value in REFERENCE_DIS.items():
        getattr(dis, f"set{name}")(value)
    return dis_flow(dis, prev, cur)


def trusted_pixels(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """The pixels of frame ``t`` where the flow between ``t−1`` and ``t`` can be trusted:
    ``(H, W)`` bool.

    ``forward`` ``u`` (``t−1 → t``) and ``backward`` ``w`` (``t → t−1``) are ``(H, W, 2)``
    px, as :func:`reference_flow` gives them for ``(previous, current)`` and ``(current,
    previous)``. A pixel ``x`` goes back to ``x + w(x)`` and forward again by ``u`` read
    there (bilinear, edges clamped); it is trusted when the round trip comes back:

        |w(x) + u(x + w(x))|² ≤ CONSISTENCY_SHARE · (|w(x)|² + |u(x + w(x))|²) + CONSISTENCY_PX2
    """
    if forward.shape != backward.shape:
        raise ValueError(f"flows of shapes {forward.shape} and {backward.shape} differ")
    back = backward.astype(np.float32, copy=False)
    there = sample_offset(
        forward.astype(np.float32, copy=False),
        np.ascontiguousarray(back[..., 0]),
        np.ascontiguousarray(back[..., 1]),
    )
    miss = ((back + there) ** 2).sum(axis=2)
    allowed = CONSISTENCY_SHARE * ((back**2).sum(axis=2) + (there**2).sum(axis=2))
    trusted: np.ndarray = miss <= allowed + CONSISTENCY_PX2
    return trusted


def as_open(points: np.ndarray, closed: bool) -> np.ndarray:
    """``(n, 2)`` float64 points of a polyline, a closed one with its first point repeated
    at the end (so its closing segment is an ordinary one)."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    return np.vstack([pts, pts[:1]]) if closed and len(pts) > 1 else pts


def densify(polylines: Polylines, step: float = DENSIFY_STEP_PX) -> tuple[np.ndarray, np.ndarray]:
    """Every polyline resampled so consecutive points are at most ``step`` px apart.

    ``polylines`` holds ``(points (n, 2) px, closed)`` pairs; a closed one gets its closing
    segment as an explicit last point. Each segment of length ``λ`` is cut into
    ``max(1, ⌈λ / step⌉)`` equal pieces (its original points are kept), all segments of all
    polylines at once. Returns ``(points (M, 2) float64, sizes (K,) int64)``: the points of
    the ``K`` non-empty polylines back to back (:func:`talos.axis.geometry.ragged.split`
    cuts them apart), each now open.
    """
    pieces = [as_open(points, closed) for points, closed in polylines]
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return np.zeros((0, 2)), np.zeros(0, np.int64)
    flat = np.concatenate(pieces)
    sizes = np.array([len(p) for p in pieces], np.int64)
    last = np.cumsum(sizes) - 1  # index of each polyline's final point
    segment = np.zeros_like(flat)
    segment[:-1] = np.diff(flat, axis=0)
    segment[last] = 0.0  # no segment runs from one polyline into the next
    length = np.hypot(segment[:, 0], segment[:, 1])
    emitted = np.maximum(1, np.ceil(length / step)).astype(np.int64)
    emitted[last] = 1  # a final point stands for itself
    source = np.repeat(np.arange(len(flat)), emitted)
    first = np.cumsum(emitted) - emitted
    fraction = (np.arange(len(source)) - first[source]) / emitted[source]
    dense = flat[source] + fraction[:, None] * segment[source]
    return dense, np.add.reduceat(emitted, last - sizes + 1)


def move_polylines(polylines: Polylines, flow: np.ndarray) -> Polylines:
    """Polylines moved by ``flow`` ``(H, W, 2)`` px: each is resampled every ≤ 1 px
    (:func:`densify`) and every point ``p`` goes to ``p + flow(p)`` (bilinear, edges
    clamped). Returned open (a closed one ends on its first point)."""
    return move_polylines_by(polylines, lambda p: p + sample_bilinear(flow, p))


def move_polylines_by(polylines: Polylines, move: Mover) -> Polylines:
    """:func:`move_polylines` with any point map ``move``: ``(N, 2)`` px → ``(N, 2)`` px (e.g.
    :meth:`talos.axis.evaluation.motion.MotionField.move`)."""
    dense, sizes = densify(polylines)
    moved = np.asarray(move(dense), np.float64).reshape(-1, 2)
    return [(piece, False) for piece in ragged.split(moved, sizes)]


def move_pixels(mask: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool map whose set pixels ``q`` (of ``mask``) moved to ``round(q + flow(q))``;
    pixels moved off the image are dropped. For 1-px line maps: a line stretched by more
    than 1 px per px of its length would get gaps (rare between consecutive frames)."""

    def move(q: np.ndarray) -> np.ndarray:
        moved: np.ndarray = q + flow[q[:, 1].astype(np.int64), q[:, 0].astype(np.int64)]
        return moved

    return move_pixels_by(mask, move)


def move_pixels_by(mask: np.ndarray, move: Mover) -> np.ndarray:
    """:func:`move_pixels` with any point map ``move``: the set pixels ``(x, y)`` of ``mask``,
    ``(N, 2)`` float64 in ``np.nonzero`` order, go to ``round(move(q))``."""
    ys, xs = np.nonzero(mask)
    out = np.zeros(mask.shape[:2], bool)
    if len(xs) == 0:
        return out
    moved = np.rint(np.asarray(move(np.stack([xs, ys], 1).astype(np.float64)))).astype(np.int64)
    x, y = moved[:, 0], moved[:, 1]
    inside = (x >= 0) & (x < mask.shape[1]) & (y >= 0) & (y < mask.shape[0])
    out[y[inside], x[inside]] = True
    return out


# --- scores ---------------------------------------------------------------------------


@dataclass
class TemporalScore:
    """Counts of moved last-frame maps against this frame's, summed over a clip's pairs.

    ``warped`` scores the map moved by the flow, ``unwarped`` the map as it was
    (``u = 0``), both at ``tolerance_px`` px; ``consistent`` the moved map again, counting
    only the line pixels of either map on the pairs' trusted pixels (:func:`trusted_pixels`).
    """

    tolerance_px: float = TOLERANCE_PX
    warped: BoundaryCounts = field(default_factory=BoundaryCounts)
    unwarped: BoundaryCounts = field(default_factory=BoundaryCounts)
    consistent: BoundaryCounts = field(default_factory=BoundaryCounts)
    pairs: int = 0

    def add(
        self,
        moved: np.ndarray,
        previous: np.ndarray | LineMap,
        current: np.ndarray | LineMap,
        trusted: np.ndarray | None = None,
    ) -> None:
        """One pair: ``(H, W)`` 1-px maps of frame ``t−1`` moved onto ``t``, of ``t−1`` as
        it was, and of ``t`` (the last two as :class:`LineMap` s where the caller scores a
        frame more than once: their distance transforms are then computed once);
        ``trusted`` ``(H, W)`` bool, where the flow that moved it can be trusted (None: a
        motion without errors, e.g. the truth's, trusted everywhere)."""
        moved_map = LineMap.of(moved)
        current_map = current if isinstance(current, LineMap) else LineMap.of(current)
        (warped,) = boundary_counts(moved_map, current_map, [self.tolerance_px])
        (unwarped,) = boundary_counts(previous, current_map, [self.tolerance_px])
        if trusted is None:
            consistent = warped
        else:
            (consistent,) = boundary_counts(moved_map, current_map, [self.tolerance_px], trusted)
        self.warped += warped
        self.unwarped += unwarped
        self.consistent += consistent
        self.pairs += 1

    def to_dict(self, flow: bool = True) -> dict[str, Any]:
        """``temporal_f``, ``temporal_precision``, ``temporal_recall``, and for a map moved
        by a flow (``flow``) ``unwarped_f`` and ``consistent_f``, ``consistent_precision``,
        ``consistent_recall`` (all None without pairs); and ``pairs``."""

        def value(x: float) -> float | None:
            return round(x, 4) if self.pairs else None

        scores = {
            "temporal_f": value(self.warped.f_score),
            "temporal_precision": value(self.warped.precision),
            "temporal_recall": value(self.warped.recall),
        }
        if flow:
            scores |= {
                "unwarped_f": value(self.unwarped.f_score),
                "consistent_f": value(self.consistent.f_score),
                "consistent_precision": value(self.consistent.precision),
                "consistent_recall": value(self.consistent.recall),
            }
        return {**scores, "pairs": self.pairs}
