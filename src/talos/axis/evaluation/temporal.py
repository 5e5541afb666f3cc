"""Temporal stability: do a trace's lines stay where the picture moves them ("boiling")?

Animators call per-frame flicker *boiling*: a line that wobbles, breaks up or jumps from one
frame to the next although the drawing did not change. These measures need no ground truth;
they score any trace (``axis trace`` output folder) against its own source video. With a
generated clip's ground truth they are also taken with the true motion (below).

**Temporal F.** For each pair of consecutive output frames ``(t−1, t)``:

1. the *reference flow* ``u`` from frame ``t−1`` to frame ``t`` of the *source* video
   (:func:`~talos.axis.evaluation.flow_maps.reference_flow`: DIS, its ``MEDIUM`` preset, not
   the pipeline's own estimate) on the grey frames at the trace's processing resolution,
   decoded again with the project's reader (:func:`talos.axis.io.readback.decode_frames`),
   whatever the trace's settings. ``u`` is the forward flow: ``I_{t−1}(x) ≈ I_t(x + u(x))``,
   ``(H, W, 2)`` px;
2. frame ``t−1``'s strokes, circles and triangles, as dense 1-px polylines
   (:func:`~talos.axis.evaluation.boundaries.stroke_polylines`), are resampled every
   ``≤ 1 px`` of arc length and every point ``p`` moves to ``p + u(p)`` (``u`` read
   bilinearly: :func:`~talos.axis.evaluation.flow_maps.move_polylines`); the moved
   polylines are drawn 1 px wide (:func:`~talos.axis.evaluation.boundaries.draw_polylines`):
   the map ``W_t`` of where last frame's lines should be now. Moving points, not pixels,
   keeps a line connected where the flow stretches it;
3. ``W_t`` is scored against frame ``t``'s own map ``M_t`` as a predicted map against a true
   one (:func:`~talos.axis.evaluation.boundaries.boundary_counts`, tolerance ``τ`` = 2 px):
   precision ``P = |{w ∈ W_t : d_{M_t}(w) ≤ τ}| / |W_t|`` (last frame's lines that are still
   there), recall ``R = |{m ∈ M_t : d_{W_t}(m) ≤ τ}| / |M_t|`` (this frame's lines that were
   already there), with ``d_X`` the Euclidean distance to the nearest pixel of ``X``.

Counts are summed over all pairs of the clip
(:class:`~talos.axis.evaluation.flow_maps.TemporalScore`) before ``P``, ``R`` and
``F = 2PR / (P + R)`` are taken. A trace with fewer than two frames has no pair: its
temporal F, P and R are None. Lines that leave the frame are drawn off the canvas and so
are not counted. Occlusion, disocclusion and flow errors lower the figure for every method
alike, so it is a comparison on equal terms, not an absolute: the same flow scores

- the **raw line map** of the edge strategy the trace used (``lines.json``
  ``line_extraction.strategy``), recomputed from the same decoded frames and thinned to 1 px
  (Guo–Hall): its pixels ``q`` move to ``round(q + u(q))``. The strokes should boil less than
  the map they were fitted to;
- other traces of the same frames, e.g. one with tracking off (:func:`trace_without_tracking`,
  which costs a second trace).

**Consistent F**: the same ``W_t`` against ``M_t``, counting only the pixels (of either
map) where the flow passes the forward–backward check
(:func:`~talos.axis.evaluation.flow_maps.trusted_pixels`: the backward flow from ``t`` to
``t−1`` is computed too, and a pixel whose round trip does not come back is left out). What
``t−1`` did not show (a line coming out from behind an occluder) and the flow's own errors
at motion boundaries no longer count as boiling; the warping error of video consistency
work (Lai et al. 2018) leaves occlusions out the same way. The raw line map and the truth
under the flow get it too.

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

**Ids and shapes**: the ink-weighted track length, the id carry-over and the shape wobble
(sub-pixel boiling with the motion taken out) of each trace
(:mod:`talos.axis.evaluation.temporal_ids`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from talos.axis.evaluation.boundaries import (
    LineMap,
    TruthClip,
    draw_polylines,
    stroke_polylines,
)
from talos.axis.evaluation.flow_maps import (
    FLOW_METHOD,
    TOLERANCE_PX,
    Polylines,
    TemporalScore,
    move_pixels,
    move_pixels_by,
    move_polylines,
    move_polylines_by,
    reference_flow,
    to_gray,
    trusted_pixels,
)
from talos.axis.evaluation.identity import EvaluationError, load_json
from talos.axis.evaluation.motion import (
    MotionError,
    MotionField,
    has_poses,
    motion_field,
    truth_polylines,
)
from talos.axis.evaluation.temporal_ids import IdentityInk, ShapeWobble, arc_lengths, frame_ids
from talos.axis.io.manifest import MANIFEST_FILE
from talos.axis.io.readback import decode_frames
from talos.config import Settings

RADIUS_TOLERANCES = 3.0  # true motion: a point takes the nearest true line's within 3 tolerances
DECODE_CHUNK = 16  # source frames decoded per seek: memory stays a few frames deep


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
    wobble: ShapeWobble
    previous: tuple[Polylines, LineMap] | None = None

    def frame(self, index: int) -> Mapping[str, Any]:
        frame: Mapping[str, Any] = load_json(self.folder / self.paths[index], "frame file")
        return frame

    def result(self, true_motion: bool = False) -> dict[str, Any]:
        extra = {"true_motion": self.true_score.to_dict(flow=False)} if true_motion else {}
        return {
            **self.score.to_dict(),
            **self.identity.to_dict(),
            **self.wobble.to_dict(),
            **extra,
        }


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
        ShapeWobble(set(lives)),
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
    previous: tuple[Polylines, LineMap, int] | None = None

    def step(
        self, index: int, flow: np.ndarray | None, trusted: np.ndarray | None = None
    ) -> MotionField | None:
        """Output frame ``index`` (``flow``: the reference flow from the one before,
        ``trusted``: where it can be trusted): score the truth's pair; return its true
        motion, or None when the truth lacks a frame."""
        gt_index = self.indices[index]
        current = None
        if gt_index is not None:
            lines = truth_polylines(self.gt, gt_index, self.shape)
            current = (lines, LineMap.of(draw_polylines(self.shape, lines)), gt_index)
        field = None
        if flow is not None and self.previous is not None and current is not None:
            last_lines, last_map, last_index = self.previous
            try:
                field = motion_field(self.gt, last_index, current[2], self.shape, self.radius_px)
            except MotionError as exc:
                raise EvaluationError(f"ground truth: {exc}") from None
            by_flow = draw_polylines(self.shape, move_polylines(last_lines, flow))
            self.under_flow.add(by_flow, last_map, current[1], trusted)
            by_motion = draw_polylines(self.shape, move_polylines_by(last_lines, field.move))
            self.under_motion.add(by_motion, last_map, current[1])
        self.previous = current
        return field

    def result(self) -> dict[str, Any]:
        return {
            **self.under_flow.to_dict(),
            "true_motion": self.under_motion.to_dict(flow=False),
        }


def _load_truth(path: Path, main: _Trace, tolerance_px: float) -> _TruthScores:
    """The ground truth at ``path`` for the frames of ``main``; :class:`EvaluationError` for
    one that cannot give the true motion."""
    clip = TruthClip.load(path)
    gt = clip.truth
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
    of :data:`DECODE_CHUNK` at a time (one seek each; memory holds one chunk, not the clip).

    :func:`talos.axis.io.readback.decode_frames` decodes them: the reader that reproduces a
    trace's frames exactly (same reader, same resize)."""
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
    "temporal_recall", "unwarped_f", "consistent_f", "consistent_precision",
    "consistent_recall", "ink_weighted_track_length" (frames), "id_carry_over" (share),
    "tracks", "shape_wobble_px", "shape_still_share"}``, plus ``"raw_line_map":
    {"strategy", the F, P, R keys above, "unwarped_f", "pairs"}`` and
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
    previous_raw: LineMap | None = None
    for index, image in enumerate(_decoded(video, main.manifest, times, settings)):
        gray = to_gray(image)
        flow = trusted = None
        if previous_gray is not None:
            flow = reference_flow(previous_gray, gray)
            trusted = trusted_pixels(flow, reference_flow(gray, previous_gray))
        field = known.step(index, flow, trusted) if known is not None else None
        for trace in traces:
            frame = trace.frame(index)
            polylines = stroke_polylines(frame)
            # A frame is scored against the one before and the one after, each with and
            # without the flow: its distance transform once (LineMap) for all of them.
            drawn = LineMap.of(draw_polylines(shape, polylines))
            ids = frame_ids(frame)
            lengths = arc_lengths(polylines)
            trace.identity.add(ids, lengths)
            trace.wobble.add(ids, polylines, lengths)
            if flow is not None and trace.previous is not None:
                last_lines, last_map = trace.previous
                moved = draw_polylines(shape, move_polylines(last_lines, flow))
                trace.score.add(moved, last_map, drawn, trusted)
                if field is not None:
                    moved = draw_polylines(shape, move_polylines_by(last_lines, field.move))
                    trace.true_score.add(moved, last_map, drawn)
            trace.previous = (polylines, drawn)
        if detector is not None:
            raw = LineMap.of(thin(detector.detect(image) > 0))
            if flow is not None and previous_raw is not None:
                last = previous_raw.mask
                raw_score.add(move_pixels(last, flow), previous_raw, raw, trusted)
                if field is not None:
                    raw_true.add(move_pixels_by(last, field.move), previous_raw, raw)
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
            report["raw_line_map"]["true_motion"] = raw_true.to_dict(flow=False)
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
