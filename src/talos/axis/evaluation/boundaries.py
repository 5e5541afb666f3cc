"""Boundary metrics: are the lines AXIS draws the lines that are really there?

Scored against the ground truth a generated clip carries (``OUT.gt.json``: the visible
boundaries and ink lines of every frame as polylines), never against the run's own line map.

For a frame, let ``P`` be the predicted line pixels (strokes rasterised as 1-px polylines, or a
line map thinned to 1 px) and ``T`` the true line pixels (the ground-truth polylines rasterised
at 1 px). With ``d_T`` the distance to the nearest true pixel and ``d_P`` to the nearest
predicted one (Euclidean distance transforms, px) and a tolerance ``τ``:

- precision = ``|{p ∈ P : d_T(p) ≤ τ}| / |P|``;
- recall = ``|{t ∈ T : d_P(t) ≤ τ}| / |T|``;
- F = ``2PR / (P + R)``;
- texture share = ``|{p ∈ P : d_T(p) > 3τ}| / |P|``: the share of drawn length lying far from
  every true line (grass, gravel, noise, compression blocks).

Counts are summed over a clip's frames before the ratios are taken (one figure per clip, as
the BSDS benchmark's dataset-level scores). Unlike BSDS, pixels are matched by distance alone,
not one to one; with 1-px maps on both sides the two agree closely, and the distance form is
what a person sees ("is there a true line within τ?").

Tolerances: :func:`tolerance_px` is 3 px at 1920×1080, scaled with the image diagonal (at
least 1 px); :func:`bsds_tolerance_px` is the BSDS benchmark's ``0.0075 × diagonal`` (16.5 px
at 1080p).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from talos.axis.evaluation.identity import EvaluationError, load_json
from talos.axis.geometry.bezier import sample
from talos.axis.io.manifest import MANIFEST_FILE
from talos.axis.io.scenes import truth_map

TEXTURE_FACTOR = 3.0  # a predicted pixel farther than this many tolerances from truth is texture
_DIAGONAL_1080P = math.hypot(1920.0, 1080.0)


def tolerance_px(width: int, height: int, at_1080p: float = 3.0) -> float:
    """``at_1080p`` px at 1920×1080, scaled with the image diagonal (2.0 px at 1280×720),
    and never under 1 px: 1-px rasterisation of both sides is itself off by up to that."""
    return max(1.0, at_1080p * math.hypot(width, height) / _DIAGONAL_1080P)


def bsds_tolerance_px(width: int, height: int) -> float:
    """The BSDS500 boundary benchmark's tolerance: 0.0075 × the image diagonal, px."""
    return 0.0075 * math.hypot(width, height)


@dataclass(frozen=True)
class BoundaryCounts:
    """Pixel counts behind precision, recall and texture share (summable over frames)."""

    predicted: int = 0
    predicted_on_truth: int = 0
    truth: int = 0
    truth_found: int = 0
    texture: int = 0

    def __add__(self, other: BoundaryCounts) -> BoundaryCounts:
        return BoundaryCounts(
            self.predicted + other.predicted,
            self.predicted_on_truth + other.predicted_on_truth,
            self.truth + other.truth,
            self.truth_found + other.truth_found,
            self.texture + other.texture,
        )

    @property
    def precision(self) -> float:
        # Drawing nothing claims nothing false: precision 1, recall 0, F 0.
        return self.predicted_on_truth / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.truth_found / self.truth if self.truth else 1.0

    @property
    def f_score(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @property
    def texture_share(self) -> float:
        return self.texture / self.predicted if self.predicted else 0.0

    def to_dict(self) -> dict[str, float]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f": round(self.f_score, 4),
            "texture_share": round(self.texture_share, 4),
        }


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """``(H, W)`` float32 Euclidean distance (px) of every pixel to the nearest set pixel of
    ``mask``; ``inf`` everywhere when the mask is empty."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform(np.where(mask, 0, 255).astype(np.uint8), cv2.DIST_L2, 5)


@dataclass(frozen=True)
class LineMap:
    """A 1-px line map as ``(H, W)`` bool with its :func:`_distance_to` map, computed once
    where one map is compared with several (a frame against the last one, moved and not)."""

    mask: np.ndarray
    distance: np.ndarray

    @classmethod
    def of(cls, lines: np.ndarray) -> LineMap:
        """``lines`` ``(H, W)``, any dtype, non-zero = line."""
        mask = lines.astype(bool)
        return cls(mask, _distance_to(mask))


def boundary_counts(
    predicted: np.ndarray | LineMap,
    truth: np.ndarray | LineMap,
    tolerances: Sequence[float],
    where: np.ndarray | None = None,
) -> list[BoundaryCounts]:
    """Counts of one frame at each tolerance (px). ``predicted`` and ``truth`` are ``(H, W)``
    masks of 1-px lines (any dtype, non-zero = line), or :class:`LineMap` s of them.
    ``where`` ``(H, W)`` bool: count only the line pixels (of either map) there, each still
    matched against the whole other map (None: everywhere)."""
    pred = predicted if isinstance(predicted, LineMap) else LineMap.of(predicted)
    true = truth if isinstance(truth, LineMap) else LineMap.of(truth)
    if pred.mask.shape != true.mask.shape:
        raise ValueError(
            f"predicted map {pred.mask.shape} and truth {true.mask.shape} differ in shape"
        )
    counted_pred = pred.mask if where is None else pred.mask & where
    counted_true = true.mask if where is None else true.mask & where
    d_truth = true.distance[counted_pred]
    d_pred = pred.distance[counted_true]
    return [
        BoundaryCounts(
            predicted=int(d_truth.size),
            predicted_on_truth=int(np.count_nonzero(d_truth <= tol)),
            truth=int(d_pred.size),
            truth_found=int(np.count_nonzero(d_pred <= tol)),
            texture=int(np.count_nonzero(d_truth > TEXTURE_FACTOR * tol)),
        )
        for tol in tolerances
    ]


def draw_polylines(
    shape: tuple[int, int],
    polylines: Iterable[tuple[np.ndarray, bool]],
    scale: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """``(H, W)`` bool map of ``(points (n, 2) px, closed)`` polylines drawn 1 px wide
    (8-connected), after scaling x and y by ``scale``."""
    canvas = np.zeros(shape, np.uint8)
    shift = 4  # 1/16 px precision
    curves: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for points, closed in polylines:
        pts = np.asarray(points, np.float64).reshape(-1, 2) * scale
        if len(pts):
            curves[bool(closed)].append(np.round(pts * (1 << shift)).astype(np.int32))
    for closed, group in curves.items():
        if group:
            cv2.polylines(canvas, group, closed, 1, 1, cv2.LINE_8, shift)
    return canvas.astype(bool)


def stroke_polylines(frame: Mapping[str, Any]) -> list[tuple[np.ndarray, bool]]:
    """Every stroke, circle and triangle of one frame file as a dense polyline (px)."""
    lines = [
        (sample(np.asarray(s["bezier"], np.float64), per_segment=12), bool(s.get("closed")))
        for s in frame.get("strokes", [])
        if len(s.get("bezier", ())) >= 1
    ]
    for circle in frame.get("circles", []):
        a = np.linspace(0, 2 * np.pi, 181)
        pts = np.asarray(circle["center"]) + circle["radius"] * np.stack([np.cos(a), np.sin(a)], 1)
        lines.append((pts, True))
    for triangle in frame.get("triangles", []):
        lines.append((np.asarray(triangle["vertices"], np.float64), True))
    return lines


@dataclass
class BoundaryScore:
    """Counts summed over a clip at the two reported tolerances."""

    tolerance_px: float
    bsds_tolerance_px: float
    at_tolerance: BoundaryCounts = BoundaryCounts()
    at_bsds: BoundaryCounts = BoundaryCounts()
    frames: int = 0

    def add(self, predicted: np.ndarray, truth: np.ndarray) -> None:
        """Score one frame's ``(H, W)`` 1-px predicted and true line masks."""
        tight, loose = boundary_counts(
            predicted, truth, (self.tolerance_px, self.bsds_tolerance_px)
        )
        self.at_tolerance += tight
        self.at_bsds += loose
        self.frames += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "tolerance_px": round(self.tolerance_px, 3),
            **self.at_tolerance.to_dict(),
            "bsds_tolerance_px": round(self.bsds_tolerance_px, 3),
            "bsds": self.at_bsds.to_dict(),
        }

    @classmethod
    def for_size(cls, width: int, height: int) -> BoundaryScore:
        return cls(tolerance_px(width, height), bsds_tolerance_px(width, height))


class TruthClip:
    """A generated clip's ground truth (``.gt.json`` as loaded), rasterised on demand at the
    size of whatever is scored against it."""

    def __init__(self, truth: Mapping[str, Any]) -> None:
        self.truth = truth
        try:
            self.frames = truth["frame_truth"]
            self.fps = float(truth["fps"])
            self.width, self.height = int(truth["width"]), int(truth["height"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"ground truth lacks field {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> TruthClip:
        """The ground truth in the file ``path``; :class:`EvaluationError` naming the file
        when it is missing, not JSON, or lacks a field."""
        try:
            return cls(load_json(Path(path), "ground truth"))
        except ValueError as exc:
            raise EvaluationError(f"{path}: {exc}") from None

    def index_at(self, time: float) -> int | None:
        """The ground-truth frame shown at ``time`` s, or None past the clip."""
        index = round(time * self.fps)
        return index if 0 <= index < len(self.frames) else None

    def mask(self, index: int, shape: tuple[int, int]) -> np.ndarray:
        """``(H, W)`` bool: frame ``index``'s true lines, 1 px wide, at ``shape`` = (H, W)."""
        return truth_map(self.truth, index, shape) > 0


def score_line_maps(
    maps: Iterable[tuple[float, np.ndarray]], truth: TruthClip
) -> BoundaryScore | None:
    """Score ``(time s, (H, W) line map)`` pairs (e.g. a per-frame Canny) against ``truth``.

    Maps are thinned to 1 px first (Guo–Hall), so a band of ink counts once along its length.
    None when no map falls inside the clip's ground truth.
    """
    from talos.axis.geometry.skeleton import thin

    score: BoundaryScore | None = None
    for time, line_map in maps:
        index = truth.index_at(time)
        if index is None:
            continue
        h, w = line_map.shape[:2]
        score = score or BoundaryScore.for_size(w, h)
        score.add(thin(line_map > 0), truth.mask(index, (h, w)))
    return score


def score_frames(
    frames: Iterable[tuple[float, Mapping[str, Any]]], shape: tuple[int, int], truth: TruthClip
) -> BoundaryScore | None:
    """Score ``(time s, frame file dict)`` pairs of a trace of size ``shape`` = (H, W)."""
    score: BoundaryScore | None = None
    for time, frame in frames:
        index = truth.index_at(time)
        if index is None:
            continue
        score = score or BoundaryScore.for_size(shape[1], shape[0])
        score.add(draw_polylines(shape, stroke_polylines(frame)), truth.mask(index, shape))
    return score


def evaluate_boundaries(output_dir: Path, truth_path: Path) -> dict[str, Any]:
    """Boundary precision, recall, F and texture share of the strokes traced in
    ``output_dir`` against the ground truth at ``truth_path`` (see the module docstring)."""
    output_dir = Path(output_dir)
    manifest = load_json(output_dir / MANIFEST_FILE, "manifest")
    truth = TruthClip.load(truth_path)
    try:
        shape = (int(manifest["frame_size"]["height"]), int(manifest["frame_size"]["width"]))
        entries = [(float(e["time"]), str(e["path"])) for e in manifest["frames"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise EvaluationError(f"{output_dir} cannot be scored: {exc}") from None
    frames = ((t, load_json(output_dir / path, "frame file")) for t, path in entries)
    score = score_frames(frames, shape, truth)
    if score is None:
        raise EvaluationError(f"no frame of {output_dir} falls inside {truth_path}")
    return score.to_dict()
