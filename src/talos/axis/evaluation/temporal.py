"""Temporal stability: do a trace's lines stay where the picture moves them ("boiling")?

Animators call per-frame flicker *boiling*: a line that wobbles, breaks up or jumps from one
frame to the next although the drawing did not change. These measures need no ground truth;
they score any trace (``axis trace`` output folder) against its own source video. With a
generated clip's ground truth they are also taken with the true motion (below).

**Temporal F.** For each pair of consecutive output frames ``(t−1, t)``:

1. the *reference flow* ``u`` from frame ``t−1`` to frame ``t`` of the *source* video is
   computed with DIS (Kroeger et al. 2016, ``cv2.DISOpticalFlow``, its ``MEDIUM`` preset:
   coarse-to-fine patch inverse search with variational refinement) on the grey frames at
   the trace's processing resolution, decoded again with the project's reader, whatever the
   trace's settings. It is not the pipeline's own estimate (its ``flow`` step runs DIS
   ``FAST`` on frames at most 480 px wide by default), so the tracker's errors are not taken
   as the truth. ``u`` is the forward flow: ``I_{t−1}(x) ≈ I_t(x + u(x))``, ``(H, W, 2)``
   px. On the generated suite the true lines themselves, moved by it, score a temporal F of
   0.96 on the realistic 720p clip against 0.83 with Farnebäck at full size, which is off by
   more than 2 px at motion boundaries (README, "Temporal coherence");
2. frame ``t−1``'s strokes, circles and triangles, as dense 1-px polylines
   (:func:`~talos.axis.evaluation.boundaries.stroke_polylines`), are resampled every
   ``≤ 1 px`` of arc length (:func:`densify`) and every point ``p`` moves to ``p + u(p)``
   (``u`` read bilinearly, :func:`~talos.axis.geometry.sampling.sample_bilinear`); the moved
   polylines are drawn 1 px wide (:func:`~talos.axis.evaluation.boundaries.draw_polylines`):
   the map ``W_t`` of where last frame's lines should be now. Moving points, not pixels,
   keeps a line connected where the flow stretches it;
3. ``W_t`` is scored against frame ``t``'s own map ``M_t`` as a predicted map against a true
   one (:func:`~talos.axis.evaluation.boundaries.boundary_counts`, tolerance ``τ`` = 2 px):
   precision ``P = |{w ∈ W_t : d_{M_t}(w) ≤ τ}| / |W_t|`` (last frame's lines that are still
   there), recall ``R = |{m ∈ M_t : d_{W_t}(m) ≤ τ}| / |M_t|`` (this frame's lines that were
   already there), with ``d_X`` the Euclidean distance to the nearest pixel of ``X``.

Counts are summed over all pairs of the clip before ``P``, ``R`` and ``F = 2PR / (P + R)``
are taken. A trace with fewer than two frames has no pair: its temporal F, P and R are None.
Lines that leave the frame are drawn off the canvas and so are not counted. Occlusion,
disocclusion and flow errors lower the figure for every method alike, so it is a
comparison on equal terms, not an absolute: the same flow scores

- the **raw line map** of the edge strategy the trace used (``lines.json``
  ``line_extraction.strategy``), recomputed from the same decoded frames and thinned to 1 px
  (Guo–Hall): its pixels ``q`` move to ``round(q + u(q))``. The strokes should boil less than
  the map they were fitted to;
- other traces of the same frames, e.g. one with tracking off (:func:`trace_without_tracking`,
  which costs a second trace).

``unwarped_f`` is the same F with ``u = 0`` (frame ``t−1``'s map against frame ``t``'s as
they are): how much the picture moves. A temporal F well above it means the flow explains
the motion; the two are equal on a still clip.

**With ground truth** (a generated clip's ``.gt.json`` with ``poses``), every map above is
scored a second time with the *true motion* instead of the flow: each point of frame
``t−1`` moves by the motion of the nearest true line within 3 tolerances, else the camera's
(:mod:`talos.axis.evaluation.motion`), with the same counting, tolerance and pairs (those
whose two frames the truth covers). The true lines themselves are scored too, under the
reference flow (``truth_under_flow``: the ceiling of the flow-based F on this clip, how good
the yardstick is) and under the true motion (1 but for lines that become hidden or appear).

**Ids.** ``stroke_id`` is an identity only for ids listed in ``lines.json`` ``tracks`` (the
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

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from talos.axis.evaluation.boundaries import (
    BoundaryCounts,
    TruthClip,
    boundary_counts,
    draw_polylines,
    stroke_polylines,
)
from talos.axis.evaluation.identity import EvaluationError, load_json
from talos.axis.evaluation.motion import (
    MotionError,
    MotionField,
    has_poses,
    motion_field,
    truth_polylines,
)
from talos.axis.geometry import ragged
from talos.axis.geometry.sampling import sample_bilinear
from talos.axis.io.manifest import MANIFEST_FILE
from talos.axis.strategies.flow import dis_flow
from talos.config import Settings

TOLERANCE_PX = 2.0
RADIUS_TOLERANCES = 3.0  # true motion: a point takes the nearest true line's within 3 tolerances
DENSIFY_STEP_PX = 1.0  # flow is read at least this often along a line, px
DECODE_CHUNK = 16  # source frames decoded per seek: memory stays a few frames deep
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
MIN_FLOW_SIDE = 16  # px; DIS needs a patch at its finest level: a smaller frame gets zero flow

Polylines = list[tuple[np.ndarray, bool]]
Mover = Callable[[np.ndarray], np.ndarray]  # (N, 2) px -> (N, 2) px


# --- flow and moving maps -------------------------------------------------------------


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def reference_flow(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Forward optical flow ``previous → current``: ``(H, W, 2)`` float32, px (x, y).

    ``previous`` and ``current`` are ``(H, W, 3)`` uint8 BGR or ``(H, W)`` uint8 grey frames
    of one size. The flow ``u`` satisfies ``previous[y, x] ≈ current[y + u_y, x + u_x]``
    (DIS with the parameters :data:`REFERENCE_DIS`, at the frames' own size; the same bytes
    for any OpenCV thread count). Frames under :data:`MIN_FLOW_SIDE` px on a side get zero
    flow.
    """
    prev, cur = _gray(previous), _gray(current)
    if prev.shape != cur.shape:
        raise ValueError(f"flow needs two frames of one size, got {prev.shape} and {cur.shape}")
    if min(prev.shape) < MIN_FLOW_SIDE:
        return np.zeros((*prev.shape, 2), np.float32)
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    for name, value in REFERENCE_DIS.items():
        getattr(dis, f"set{name}")(value)
    return dis_flow(dis, prev, cur)


def _as_open(points: np.ndarray, closed: bool) -> np.ndarray:
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
    pieces = [_as_open(points, closed) for points, closed in polylines]
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
    (``u = 0``), both at ``tolerance_px`` px.
    """

    tolerance_px: float = TOLERANCE_PX
    warped: BoundaryCounts = field(default_factory=BoundaryCounts)
    unwarped: BoundaryCounts = field(default_factory=BoundaryCounts)
    pairs: int = 0

    def add(self, moved: np.ndarray, previous: np.ndarray, current: np.ndarray) -> None:
        """One pair: ``(H, W)`` 1-px maps of frame ``t−1`` moved onto ``t``, of ``t−1`` as
        it was, and of ``t``."""
        (warped,) = boundary_counts(moved, current, [self.tolerance_px])
        (unwarped,) = boundary_counts(previous, current, [self.tolerance_px])
        self.warped += warped
        self.unwarped += unwarped
        self.pairs += 1

    def to_dict(self, unwarped: bool = True) -> dict[str, Any]:
        """``temporal_f``, ``temporal_precision``, ``temporal_recall``, ``unwarped_f`` (left
        out when not ``unwarped``; all None without pairs) and ``pairs``."""

        def value(x: float) -> float | None:
            return round(x, 4) if self.pairs else None

        scores = {
            "temporal_f": value(self.warped.f_score),
            "temporal_precision": value(self.warped.precision),
            "temporal_recall": value(self.warped.recall),
            "unwarped_f": value(self.unwarped.f_score),
            "pairs": self.pairs,
        }
        if not unwarped:
            del scores["unwarped_f"]
        return scores


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
    pieces = [_as_open(points, closed) for points, closed in polylines]
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


# --- traces ---------------------------------------------------------------------------


@dataclass
class _Trace:
    """One output folder being scored: its frames (times s, frame file paths, size) and
    running scores."""

    folder: Path
    manifest: Mapping[str, Any]
    times: np.ndarray
    paths: list[str]
    shape: tuple[int, int]
    score: TemporalScore
    identity: IdentityInk
    true_score: TemporalScore
    previous: tuple[Polylines, np.ndarray] | None = None

    def frame(self, index: int) -> Mapping[str, Any]:
        frame: Mapping[str, Any] = load_json(self.folder / self.paths[index], "frame file")
        return frame

    def result(self, true_motion: bool = False) -> dict[str, Any]:
        extra = {"true_motion": self.true_score.to_dict(unwarped=False)} if true_motion else {}
        return {**self.score.to_dict(), **self.identity.to_dict(), **extra}


def _load_trace(folder: Path, tolerance_px: float) -> _Trace:
    manifest = load_json(folder / MANIFEST_FILE, "manifest")
    try:
        size = manifest["frame_size"]
        shape = (int(size["height"]), int(size["width"]))
        times = np.array([float(e["time"]) for e in manifest["frames"]], np.float64)
        paths = [str(e["path"]) for e in manifest["frames"]]
        lives = {int(t["stroke_id"]): int(t["length"]) for t in manifest.get("tracks") or []}
    except (KeyError, TypeError, ValueError) as exc:
        raise EvaluationError(f"{folder / MANIFEST_FILE} lacks field {exc}") from None
    if min(shape) <= 0:
        raise EvaluationError(f"{folder / MANIFEST_FILE} has frame size {shape[1]}x{shape[0]}")
    if not paths:
        raise EvaluationError(f"{folder} holds no frames")
    return _Trace(
        folder,
        manifest,
        times,
        paths,
        shape,
        TemporalScore(tolerance_px),
        IdentityInk(lives),
        TemporalScore(tolerance_px),
    )


@dataclass
class _TruthScores:
    """A generated clip's ground truth at a trace's frames: the true motion of each pair of
    output frames, and the true lines' own temporal F under the reference flow and under the
    true motion."""

    gt: Mapping[str, Any]
    indices: list[int | None]  # ground-truth frame of each output frame
    shape: tuple[int, int]
    radius_px: float
    under_flow: TemporalScore
    under_motion: TemporalScore
    previous: tuple[Polylines, np.ndarray, int] | None = None

    def step(self, index: int, flow: np.ndarray | None) -> MotionField | None:
        """Output frame ``index`` (``flow``: the reference flow from the one before): score
        the truth's pair; return its true motion, or None when the truth lacks a frame."""
        gt_index = self.indices[index]
        current = None
        if gt_index is not None:
            lines = truth_polylines(self.gt, gt_index, self.shape)
            current = (lines, draw_polylines(self.shape, lines), gt_index)
        field = None
        if flow is not None and self.previous is not None and current is not None:
            last_lines, last_map, last_index = self.previous
            try:
                field = motion_field(self.gt, last_index, current[2], self.shape, self.radius_px)
            except MotionError as exc:
                raise EvaluationError(f"ground truth: {exc}") from None
            by_flow = draw_polylines(self.shape, move_polylines(last_lines, flow))
            self.under_flow.add(by_flow, last_map, current[1])
            by_motion = draw_polylines(self.shape, move_polylines_by(last_lines, field.move))
            self.under_motion.add(by_motion, last_map, current[1])
        self.previous = current
        return field

    def result(self) -> dict[str, Any]:
        return {
            **self.under_flow.to_dict(),
            "true_motion": self.under_motion.to_dict(unwarped=False),
        }


def _load_truth(path: Path, main: _Trace, tolerance_px: float) -> _TruthScores:
    """The ground truth at ``path`` for the frames of ``main``; :class:`EvaluationError` for
    one that cannot give the true motion."""
    gt = load_json(path, "ground truth")
    try:
        clip = TruthClip(gt)
    except ValueError as exc:
        raise EvaluationError(f"{path}: {exc}") from None
    if clip.frames and not has_poses(gt):
        raise EvaluationError(
            f"{path}: ground truth has no poses (made before true motion was recorded): "
            "generate the clip again"
        )
    indices = [clip.index_at(float(t)) for t in main.times]
    under = (TemporalScore(tolerance_px), TemporalScore(tolerance_px))
    return _TruthScores(gt, indices, main.shape, RADIUS_TOLERANCES * tolerance_px, *under)


def _check_same_frames(main: _Trace, other: _Trace) -> None:
    a, b = main.times, other.times
    if main.shape != other.shape or a.shape != b.shape or not np.allclose(a, b, atol=1e-4):
        raise EvaluationError(
            f"{other.folder} did not trace the frames of {main.folder} (size or times differ)"
        )


def trace_source(folder: str | Path, manifest: Mapping[str, Any]) -> Path:
    """The traced video (or image folder) named in ``lines.json`` ``source.uri``;
    :class:`EvaluationError` naming it when it is not there."""
    source = manifest.get("source")
    uri = source.get("uri") if isinstance(source, Mapping) else None
    if not uri:
        raise EvaluationError(f"{Path(folder) / MANIFEST_FILE} names no source video")
    path = Path(str(uri).removeprefix("file://"))
    if not path.exists():
        raise EvaluationError(f"source video of {folder} not found: {path}")
    return path


def _decoded(
    source: Path, manifest: Mapping[str, Any], times: Sequence[float], settings: Settings
) -> Iterator[np.ndarray]:
    """The source frames at ``times``, ``(H, W, 3)`` uint8 BGR at the trace's size, a chunk
    of :data:`DECODE_CHUNK` at a time (one seek each; memory holds one chunk, not the clip)."""
    # Imported here: the contact sheet's decoder is the one that reproduces a trace's frames
    # exactly (same reader, same resize), and talos.bench depends on talos.axis, not back.
    from talos.axis.io.readback import decode_frames

    for start in range(0, len(times), DECODE_CHUNK):
        yield from decode_frames(source, manifest, times[start : start + DECODE_CHUNK], settings)


def evaluate_temporal(
    output_dir: str | Path,
    settings: Settings | None = None,
    source: str | Path | None = None,
    compare: Mapping[str, str | Path] | None = None,
    raw_line_map: bool = True,
    tolerance_px: float = TOLERANCE_PX,
    truth: str | Path | None = None,
) -> dict[str, Any]:
    """Temporal stability of the trace in ``output_dir`` (see the module docstring).

    Parameters
    ----------
    output_dir : an ``axis trace`` output folder.
    settings : the Settings the trace ran with (default :class:`Settings` ()): its ``edges``
        section rebuilds the raw line map; its ``processing`` section decodes.
    source : the traced video or image folder (default: ``lines.json`` ``source.uri``).
    compare : ``{name: folder}`` of other traces of the same frames (same size and times),
        scored with the same flow in the same pass, e.g. ``{"tracking_off": ...}``.
    raw_line_map : also score the edge strategy's raw line map.
    tolerance_px : ``τ``, px.
    truth : the clip's ground truth (``.gt.json`` with ``poses``): also score every map with
        the true motion, and the true lines themselves.

    Returns
    -------
    ``{"frames", "pairs", "tolerance_px", "flow", "temporal_f", "temporal_precision",
    "temporal_recall", "unwarped_f", "ink_weighted_track_length" (frames),
    "id_carry_over" (share), "tracks"}``, plus ``"raw_line_map": {"strategy",
    "temporal_f", "temporal_precision", "temporal_recall", "unwarped_f", "pairs"}`` and
    ``"compare": {name: {the stroke keys}}``. F, P, R are None without pairs (one frame).
    With ``truth``: ``"ground_truth"`` (its path), ``"true_motion": {"temporal_f",
    "temporal_precision", "temporal_recall", "pairs"}`` for the strokes, in
    ``raw_line_map`` and in each ``compare`` entry, and ``"truth_under_flow"``: the true
    lines' flow-based scores (the yardstick's ceiling) with their own ``"true_motion"``.

    Raises
    ------
    EvaluationError : missing or unreadable ``lines.json``, frame file or ground truth, a
        ground truth without poses, a missing source, or a ``compare`` trace of other
        frames. ``InputError`` : a source that is not the traced video (other size, frames
        missing).
    """
    from talos.axis.geometry.skeleton import thin
    from talos.axis.strategies import EDGE_DETECTORS

    settings = settings or Settings()
    main = _load_trace(Path(output_dir), tolerance_px)
    others = {name: _load_trace(Path(p), tolerance_px) for name, p in (compare or {}).items()}
    for other in others.values():
        _check_same_frames(main, other)
    video = Path(source) if source is not None else trace_source(main.folder, main.manifest)
    if not video.exists():
        raise EvaluationError(f"source video of {main.folder} not found: {video}")
    strategy = str(
        (main.manifest.get("line_extraction") or {}).get("strategy") or settings.edges.strategy
    )
    detector = EDGE_DETECTORS.create(strategy, settings) if raw_line_map else None
    raw_score, raw_true = TemporalScore(tolerance_px), TemporalScore(tolerance_px)
    known = _load_truth(Path(truth), main, tolerance_px) if truth is not None else None
    shape = main.shape
    times = main.times.tolist()
    traces = [main, *others.values()]

    previous_gray: np.ndarray | None = None
    previous_raw: np.ndarray | None = None
    for index, image in enumerate(_decoded(video, main.manifest, times, settings)):
        gray = _gray(image)
        flow = reference_flow(previous_gray, gray) if previous_gray is not None else None
        field = known.step(index, flow) if known is not None else None
        for trace in traces:
            frame = trace.frame(index)
            polylines = stroke_polylines(frame)
            drawn = draw_polylines(shape, polylines)
            ids = frame_ids(frame)
            trace.identity.add(ids, arc_lengths(polylines))
            if flow is not None and trace.previous is not None:
                last_lines, last_map = trace.previous
                trace.score.add(
                    draw_polylines(shape, move_polylines(last_lines, flow)), last_map, drawn
                )
                if field is not None:
                    moved = draw_polylines(shape, move_polylines_by(last_lines, field.move))
                    trace.true_score.add(moved, last_map, drawn)
            trace.previous = (polylines, drawn)
        if detector is not None:
            raw = thin(detector.detect(image) > 0)
            if flow is not None and previous_raw is not None:
                raw_score.add(move_pixels(previous_raw, flow), previous_raw, raw)
                if field is not None:
                    raw_true.add(move_pixels_by(previous_raw, field.move), previous_raw, raw)
            previous_raw = raw
        previous_gray = gray

    with_truth = known is not None
    report: dict[str, Any] = {
        "frames": len(times),
        "tolerance_px": tolerance_px,
        "flow": f"{FLOW_METHOD} at {shape[1]}x{shape[0]} on the source frames",
        **main.result(with_truth),
    }
    if detector is not None:
        report["raw_line_map"] = {"strategy": strategy, **raw_score.to_dict()}
        if with_truth:
            report["raw_line_map"]["true_motion"] = raw_true.to_dict(unwarped=False)
    if others:
        report["compare"] = {name: trace.result(with_truth) for name, trace in others.items()}
    if known is not None:
        report["ground_truth"] = str(truth)
        report["truth_under_flow"] = known.result()
    return report


def without_tracking(settings: Settings, strategy: str | None = None) -> Settings:
    """``settings`` with ``tracking.enabled`` off (per-frame ids, no smoothing) and, when
    given, ``edges.strategy`` fixed to ``strategy`` (the one the tracked run used)."""
    update: dict[str, Any] = {"tracking": settings.tracking.model_copy(update={"enabled": False})}
    if strategy:
        update["edges"] = settings.edges.model_copy(update={"strategy": strategy})
    return settings.model_copy(update=update)


def trace_without_tracking(
    clip: str | Path, output_dir: str | Path, settings: Settings, strategy: str | None = None
) -> Path:
    """Trace ``clip`` into ``output_dir`` with tracking off (:func:`without_tracking`): the
    per-frame baseline for ``evaluate_temporal(..., compare={"tracking_off": path})``.
    Returns the output folder. Costs a second full trace."""
    from talos.axis.api import trace_video

    return trace_video(clip, output_dir, without_tracking(settings, strategy)).output_dir
