"""Identity metrics: does each true line keep one ``stroke_id`` for its whole life?

Per frame of the output, every true line of the ground truth (``OUT.gt.json`` from
:func:`talos.axis.io.sample.generate_sample`) is matched to the traced stroke that covers it:
*coverage* is the share of the true polyline's points (resampled every 1 px) lying within
``tol = width/2 + 3`` px of the stroke's curve (width = the drawn line width). Strokes
covering ≥ 50 % are candidates, and each stroke goes to at most one line per frame, as in
CLEAR-MOT (:func:`match_lines`): a line keeps the id it had while that stroke still covers
it, and the other lines are paired with the free strokes for the largest total coverage.
A stroke that covers two lines (two outlines drawn as one) counts for one of them, and the
occluder's outline next to the last sliver of a line it hides is not taken for that line.
Nor is such a sliver scored at all where nothing else tells it apart
(:func:`ambiguous_slivers`: under a third of the line, along another line and with less
than 4 tolerances of its own): an occluder's outline traced in pieces that no line claims
would otherwise hand the hidden line a new id in the frame before it vanishes.
Circles and triangles that carry a ``stroke_id`` count as strokes. A line the ground truth
gives in several visible pieces (an occluder hides its middle: :mod:`talos.axis.io.scenes`)
is one line: its pieces' points are scored together, once per frame.

Reported, per run:

- ``true_lines``: lines of the ground truth visible in at least one traced frame (a line
  that shows only after the frames traced, as when a benchmark traces a clip's first
  frames, is not scored);
- ``detected_share``: share of (line, frame) pairs matched to some stroke;
- ``id_switches``: times a line's id changed between two frames where it was matched;
- ``fragmentation``: times a line's matching was interrupted and resumed (CLEAR-MOT Frag);
- ``ids_per_line_mean``: mean number of distinct ids a line was given;
- ``kept_one_id_share``: share of true lines with exactly one id over their life, matched in
  at least 80 % of their frames;
- ``ids_on_several_lines``: stroke ids matched to more than one true line over the clip (one
  line's id handed on to another: a wrong re-identification, two lines swapping ids, or a
  stroke that covered one line and later another). Kept one id and few switches can be had
  by handing ids out freely; this count is the price of that;
- ``id_switch_causes``: the switches by what the line's new id was (:func:`switch_causes`):
  ``new_id`` (a stroke born in that frame, the line matched in the frame before),
  ``new_id_after_gap`` (born in that frame, after frames where the line was not matched: a
  line back that re-identification missed), ``unmatched_stroke`` (a stroke drawn before
  that covered no true line: another piece of the line took over), ``another_lines_id``
  (an id matched to another true line before: one stroke over two lines, or a wrong
  re-identification) and ``earlier_id`` (an id the line had before);
- ``median_track_length``: median length in frames of the output's tracks (``lines.json``);
- ``id_switches_per_line``: ``id_switches / true_lines``;
- ``fragments_per_line_per_frame``: ``fragmentation`` over the (line, frame) pairs of the
  ground truth in the traced frames (the denominator of ``detected_share``): the rate at
  which a line's matching breaks off and resumes, comparable across clip lengths.

The same figures are given under ``linked_pieces`` with the pieces of a line taken together: the
tracker records a track that broke off a line (an occluder cut it, two lines crossed) with
``split_from`` in ``lines.json`` ``tracks`` (:func:`line_roots`); such pieces count as one
line with the id of the line they broke off, and their coverages add up. The per-stroke
figures above stay the strict ones.

Temporal stability without ground truth (temporal F, track length weighted by ink, id
carry-over) is :mod:`talos.axis.evaluation.temporal` (the two id measures:
:mod:`talos.axis.evaluation.temporal_ids`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from talos.axis.errors import InputError
from talos.axis.geometry.bezier import sample
from talos.axis.geometry.sampling import resample_polyline
from talos.axis.io.manifest import MANIFEST_FILE

MIN_COVERAGE = 0.5
MIN_DETECTED = 0.8
SLIVER_SHARE = 1 / 3  # of a line's longest visible extent ...
SLIVER_TOLERANCES = 4.0  # ... along another line, with less than this many tolerances clear


class EvaluationError(InputError):
    """The output folder or the ground truth cannot be evaluated."""


def load_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise EvaluationError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"{what} {path} is not valid JSON: {exc}") from None


def _frame_curves(frame: Mapping[str, Any]) -> list[tuple[int, np.ndarray]]:
    """``(stroke_id, dense points (m, 2))`` for every stroke and id-carrying primitive."""
    curves = []
    for stroke in frame.get("strokes", []):
        pts = sample(np.asarray(stroke["bezier"], dtype=np.float64), per_segment=8)
        curves.append((int(stroke["stroke_id"]), resample_polyline(pts, 1.0)))
    for circle in frame.get("circles", []):
        if circle.get("stroke_id") is None:
            continue
        a = np.linspace(0, 2 * np.pi, 181)
        pts = np.asarray(circle["center"]) + circle["radius"] * np.stack([np.cos(a), np.sin(a)], 1)
        curves.append((int(circle["stroke_id"]), resample_polyline(pts, 1.0)))
    for triangle in frame.get("triangles", []):
        if triangle.get("stroke_id") is None:
            continue
        v = np.asarray(triangle["vertices"], dtype=np.float64)
        curves.append((int(triangle["stroke_id"]), resample_polyline(np.vstack([v, v[:1]]), 1.0)))
    return curves


def _coverage(
    truth: np.ndarray, tol: float, curves: list[tuple[int, np.ndarray]]
) -> dict[int, float]:
    """``{stroke id: share of the true points within tol of it}`` for the strokes covering
    at least :data:`MIN_COVERAGE` of ``truth`` ``(n, 2)``."""
    lo, hi = truth.min(axis=0) - tol, truth.max(axis=0) + tol
    coverage: dict[int, float] = {}
    for stroke_id, pts in curves:
        if len(pts) == 0 or (pts.max(axis=0) < lo).any() or (pts.min(axis=0) > hi).any():
            continue
        distance, _ = cKDTree(pts).query(truth, distance_upper_bound=tol)
        share = float(np.mean(distance <= tol))
        coverage[stroke_id] = max(share, coverage.get(stroke_id, 0.0))
    return {k: v for k, v in coverage.items() if v >= MIN_COVERAGE}


def match_lines(
    coverage: Mapping[int, Mapping[int, float]], previous: Mapping[int, int | None]
) -> dict[int, int | None]:
    """One frame's correspondence ``{line: stroke id or None}``, each stroke given to at most
    one line (CLEAR-MOT). ``coverage[line]`` holds the strokes that cover the line enough,
    ``previous[line]`` the id it had when last matched. A line keeps that id while the stroke
    still covers it (the better-covered line where two claim one); the others are then paired
    with the free strokes so that the total coverage is largest (Hungarian)."""
    matched: dict[int, int | None] = dict.fromkeys(coverage)
    claims = [
        (line, stroke)
        for line, cover in coverage.items()
        if (stroke := previous.get(line)) is not None and stroke in cover
    ]
    claims.sort(key=lambda claim: -coverage[claim[0]][claim[1]])
    taken: set[int] = set()
    for line, stroke in claims:
        if stroke not in taken:
            matched[line] = stroke
            taken.add(stroke)
    rest = [line for line in coverage if matched[line] is None]
    free = sorted({s for line in rest for s in coverage[line]} - taken)
    if rest and free:
        gain = np.array([[coverage[line].get(s, 0.0) for s in free] for line in rest])
        rows, cols = linear_sum_assignment(gain, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if gain[r, c] > 0:
                matched[rest[r]] = free[c]
    return matched


def evaluate_identity(output_dir: Path, truth_path: Path) -> dict[str, Any]:
    """Identity metrics of the trace in ``output_dir`` against ``truth_path`` (see module)."""
    output_dir, truth_path = Path(output_dir), Path(truth_path)
    manifest = load_json(output_dir / MANIFEST_FILE, "manifest")
    truth = load_json(truth_path, "ground truth")
    try:
        gt_frames = truth["frame_truth"]
        gt_fps = float(truth["fps"])
        sx = manifest["frame_size"]["width"] / float(truth["width"])
        sy = manifest["frame_size"]["height"] / float(truth["height"])
        widths = {int(line["id"]): float(line["width"]) for line in truth["lines"]}
        frame_entries = manifest["frames"]
    except (KeyError, TypeError, ValueError) as exc:
        raise EvaluationError(f"{truth_path} or {output_dir} lacks field {exc}") from None
    if not frame_entries:
        raise EvaluationError(f"{output_dir} holds no frames")

    history: dict[int, list[int | None]] = {line_id: [] for line_id in widths}
    by_line: dict[int, list[int | None]] = {line_id: [] for line_id in widths}
    frames_of: dict[int, list[int]] = {line_id: [] for line_id in widths}
    born: dict[int, int] = {}  # stroke id → the first traced frame it is drawn in
    root = line_roots(manifest.get("tracks", []))
    tolerance = {line_id: 0.5 * width * max(sx, sy) + 3.0 for line_id, width in widths.items()}
    # The true lines at each traced frame, a line hidden in part given as several pieces
    # with its id: one observation.
    observed: list[tuple[int, Mapping[str, Any], dict[int, np.ndarray]]] = []
    for index, entry in enumerate(frame_entries):
        gt_index = round(float(entry["time"]) * gt_fps)
        if 0 <= gt_index < len(gt_frames):
            pieces: dict[int, list[np.ndarray]] = {}
            for line in gt_frames[gt_index]["lines"]:
                line_id = int(line["id"])
                if line_id not in history:
                    continue
                pts = np.asarray(line["points"], dtype=np.float64).reshape(-1, 2)
                if line.get("closed"):
                    pts = np.vstack([pts, pts[:1]])
                pieces.setdefault(line_id, []).append(resample_polyline(pts * [sx, sy], 1.0))
            points = {line_id: np.concatenate(parts) for line_id, parts in pieces.items()}
            observed.append((index, entry, points))
    longest: dict[int, int] = {}
    for _, _, points in observed:
        for line_id, pts in points.items():
            longest[line_id] = max(longest.get(line_id, 0), len(pts))

    for index, entry, points in observed:
        frame = load_json(output_dir / entry["path"], "frame file")
        curves = _frame_curves(frame)
        for drawn_id, _ in curves:
            born.setdefault(drawn_id, index)
        lines = _joined(curves, root)
        slivers = ambiguous_slivers(points, tolerance, longest)
        truth = {line_id: pts for line_id, pts in points.items() if line_id not in slivers}
        for line_id in truth:
            frames_of[line_id].append(index)
        for record, candidates in ((history, curves), (by_line, lines)):
            coverage = {
                line_id: _coverage(pts, tolerance[line_id], candidates)
                for line_id, pts in truth.items()
            }
            last = {line_id: _last_id(record[line_id]) for line_id in truth}
            for line_id, stroke_id in match_lines(coverage, last).items():
                record[line_id].append(stroke_id)

    lengths = [int(t["length"]) for t in manifest.get("tracks", [])]
    line_level = _summary(by_line)
    return {
        **_summary(history),
        "id_switch_causes": switch_causes(history, frames_of, born),
        "frames": len(frame_entries),
        "median_track_length": float(np.median(lengths)) if lengths else 0.0,
        "tracks": len(lengths),
        "delta_kappa_mean": (manifest.get("metrics") or {}).get("delta_kappa_mean"),
        "linked_pieces": {
            key: line_level[key]
            for key in (
                "detected_share",
                "kept_one_id_share",
                "id_switches_per_line",
                "fragments_per_line_per_frame",
                "ids_on_several_lines",
            )
        },
    }


def ambiguous_slivers(
    truth: Mapping[int, np.ndarray], tolerance: Mapping[int, float], longest: Mapping[int, int]
) -> set[int]:
    """The true lines of one frame that are slivers along another line, which no stroke can
    be told to trace: ``truth`` ``{line: points (n, 2)}`` sampled every 1 px, ``tolerance``
    ``{line: px}`` and ``longest`` ``{line: most points it shows in any frame scored}``.

    A line is such a sliver when it shows less than :data:`SLIVER_SHARE` of its longest,
    some of it lies within its tolerance of another true line of the frame, and fewer than
    :data:`SLIVER_TOLERANCES` tolerances of it do not: the last of an eye going behind a
    body, which a stroke of the body's outline covers as well as the eye's own would."""
    short = {line for line, pts in truth.items() if len(pts) < SLIVER_SHARE * longest[line]}
    if not short or len(truth) < 2:
        return set()
    ids = list(truth)
    owner = np.repeat(np.arange(len(ids)), [len(truth[i]) for i in ids])
    tree = cKDTree(np.concatenate([truth[i] for i in ids]))
    slivers = set()
    for k, line_id in enumerate(ids):
        if line_id not in short:
            continue
        pts = truth[line_id]
        near = tree.query_ball_point(pts, tolerance[line_id])
        shared = sum(1 for found in near if (owner[found] != k).any())
        if shared and len(pts) - shared < SLIVER_TOLERANCES * tolerance[line_id]:
            slivers.add(line_id)
    return slivers


def line_roots(tracks: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """``stroke_id → line id`` from a ``lines.json`` track table: a track that broke off a
    line as a piece (``split_from``) belongs to that line; any other track is a line of its
    own (ids not in the table too)."""
    return {
        int(row["stroke_id"]): int(row["split_from"])
        for row in tracks
        if row.get("split_from") is not None
    }


def _joined(
    curves: list[tuple[int, np.ndarray]], root: Mapping[int, int]
) -> list[tuple[int, np.ndarray]]:
    """A frame's curves grouped into lines (:func:`line_roots`): ``(line id, points)``."""
    grouped: dict[int, list[np.ndarray]] = {}
    for stroke_id, pts in curves:
        grouped.setdefault(root.get(stroke_id, stroke_id), []).append(pts)
    return [(line, np.concatenate(parts)) for line, parts in grouped.items()]


SWITCH_CAUSES = (
    "new_id",
    "new_id_after_gap",
    "unmatched_stroke",
    "another_lines_id",
    "earlier_id",
)


def switch_causes(
    history: Mapping[int, Sequence[int | None]],
    frames: Mapping[int, Sequence[int]],
    born: Mapping[int, int],
) -> dict[str, int]:
    """The id switches of ``history`` (per true line, its matched id or None in each frame
    it is visible in, those frames' numbers in ``frames``) counted by what the new id was
    (:data:`SWITCH_CAUSES`, see the module docstring). ``born`` gives the frame each
    stroke id is first drawn in; a switch in frame ``f`` to an id matched to another line
    only from ``f`` on is not ``another_lines_id``."""
    matched: dict[int, list[tuple[int, int]]] = {}  # stroke id → (frame, line), in order
    for line, ids in history.items():
        for frame, stroke_id in zip(frames[line], ids, strict=True):
            if stroke_id is not None:
                matched.setdefault(stroke_id, []).append((frame, line))
    causes = dict.fromkeys(SWITCH_CAUSES, 0)
    for line, ids in history.items():
        last: tuple[int, int] | None = None  # (frame, id) of the last match
        for frame, stroke_id in zip(frames[line], ids, strict=True):
            if stroke_id is None:
                continue
            if last is not None and stroke_id != last[1]:
                before = {other for f, other in matched[stroke_id] if f < frame}
                if line in before:
                    cause = "earlier_id"
                elif before:
                    cause = "another_lines_id"
                elif born.get(stroke_id) == frame:
                    cause = "new_id_after_gap" if frame - last[0] > 1 else "new_id"
                else:
                    cause = "unmatched_stroke"
                causes[cause] += 1
            last = (frame, stroke_id)
    return causes


def _last_id(ids: Sequence[int | None]) -> int | None:
    """The id a line was last matched to (None before its first match)."""
    return next((i for i in reversed(ids) if i is not None), None)


def _summary(history: Mapping[int, list[int | None]]) -> dict[str, Any]:
    """The identity figures of per-frame ids (None: not matched) of every true line."""
    switches = fragments = kept = 0
    matched = total = 0
    ids_per_line = []
    visible = [ids for ids in history.values() if ids]
    for ids in visible:
        total += len(ids)
        seen = [i for i in ids if i is not None]
        matched += len(seen)
        switches += sum(1 for a, b in zip(seen, seen[1:], strict=False) if a != b)
        fragments += sum(
            1
            for k in range(1, len(ids))
            if ids[k] is not None and ids[k - 1] is None and any(i is not None for i in ids[:k])
        )
        distinct = len(set(seen))
        ids_per_line.append(distinct)
        if distinct == 1 and len(seen) >= MIN_DETECTED * len(ids):
            kept += 1
    true_lines = len(visible)
    lines_of: dict[int, set[int]] = {}
    for line, ids in history.items():
        for stroke_id in ids:
            if stroke_id is not None:
                lines_of.setdefault(stroke_id, set()).add(line)
    return {
        "true_lines": true_lines,
        "detected_share": matched / total if total else 0.0,
        "id_switches": switches,
        "fragmentation": fragments,
        "ids_per_line_mean": float(np.mean(ids_per_line)) if ids_per_line else 0.0,
        "kept_one_id_share": kept / true_lines if true_lines else 0.0,
        "id_switches_per_line": switches / true_lines if true_lines else 0.0,
        "fragments_per_line_per_frame": fragments / total if total else 0.0,
        "ids_on_several_lines": sum(1 for lines in lines_of.values() if len(lines) > 1),
    }
