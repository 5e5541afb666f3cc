"""Temporal-coherence benchmark (issue 4): identity on the sample clip, Δκ and track
lengths on a clip made from a real photograph, and the tracking overhead at 1920×1080.

    .venv/bin/python benchmarks/bench_temporal.py [--out out/bench_temporal] [--quick]

No footage can be downloaded here, so the "real" clip is a slow pan and zoom over
``skimage.data.astronaut()`` (a real photograph, :mod:`talos.axis.io.photo_sample`),
encoded with x264 like any footage.
Times are reported as ratios measured in one run (interleaved repeats, medians).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from talos.axis.api import trace_video
from talos.axis.evaluation.identity import evaluate_identity
from talos.axis.io.photo_sample import generate_photo_clip
from talos.axis.io.sample import generate_sample
from talos.config import Settings

TEMPORAL_STEPS = ("flow", "track", "smooth")


def identity_on_sample(out: Path, quick: bool) -> dict:
    clip = out / "sample.mp4"
    frames = 24 if quick else 48
    truth = generate_sample(clip, width=1280, height=720, frames=frames, shapes=12)
    result = trace_video(clip, out / "sample_trace", Settings())
    report = evaluate_identity(result.output_dir, truth)
    report["delta_kappa_raw_mean"] = result.summary.metrics.get("delta_kappa_raw")
    return report


def real_clip(out: Path, quick: bool) -> dict:
    clip = generate_photo_clip(
        out / "astronaut_pan.mp4", width=640, height=360, frames=24 if quick else 48
    )
    result = trace_video(clip, out / "real_trace", Settings())
    lengths = [t["length"] for t in result.manifest["tracks"]]
    frames = result.summary.frames
    preview = track_preview(
        result.output_dir, [0, frames // 2, frames - 1], out / "real_tracks_preview.png"
    )
    return {
        "frames": frames,
        "strokes_per_frame": result.summary.counts.get("strokes", 0) / max(1, frames),
        "delta_kappa_mean": result.manifest["metrics"]["delta_kappa_mean"],
        "delta_kappa_raw_mean": result.summary.metrics.get("delta_kappa_raw"),
        "tracks": len(lengths),
        "median_track_length": float(np.median(lengths)) if lengths else 0.0,
        # Ink-weighted: the share of all per-frame strokes that belong to tracks ≥ 10 frames.
        "stroke_share_in_tracks_ge_10": (
            sum(n for n in lengths if n >= 10) / sum(lengths) if lengths else 0.0
        ),
        "preview": str(preview),
    }


def track_preview(trace_dir: Path, frames: list[int], path: Path) -> Path:
    """Frames side by side, each stroke drawn in a colour fixed by its ``stroke_id``: a line
    that keeps its colour across the strip kept its id."""
    from talos.axis.geometry.bezier import sample

    panels = []
    for index in frames:
        data = json.loads((trace_dir / f"frames/{index:06d}.json").read_text())
        panel = np.full((data["height"], data["width"], 3), 255, np.uint8)
        for stroke in data["strokes"]:
            rng = np.random.default_rng(stroke["stroke_id"])
            colour = tuple(int(c) for c in rng.integers(0, 200, 3))
            pts = sample(np.asarray(stroke["bezier"]), 6).round().astype(np.int32)
            cv2.polylines(panel, [pts], False, colour, 2, cv2.LINE_AA)
        cv2.putText(panel, f"frame {index}", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
        panels.append(panel)
    cv2.imwrite(str(path), np.hstack(panels))
    return path


def _per_frame_ms(clip: Path, out: Path, steps: list[str]) -> tuple[float, dict[str, float]]:
    settings = Settings(pipeline={"steps": steps})
    result = trace_video(clip, out, settings)
    per_step = {s.step: s.total_ms / max(1, result.summary.frames) for s in result.summary.steps}
    return 1000.0 * result.summary.wall_s / result.summary.frames, per_step


def overhead_1080p(out: Path, quick: bool, repeats: int) -> dict:
    """Per-frame cost of tracking at 1920×1080, two ways.

    Within each run of the full pipeline, from the steps' own timings: the track step's time
    (and flow + track + smooth) over the time of all other steps. And A/B: wall time per
    frame of the full pipeline against the same pipeline without ``track`` (the worker-pool
    split is the same in both, since ``flow`` stays the first ordered step), interleaved
    ``repeats`` times, medians. On a shared box the A/B is the noisier of the two.
    """
    clip = out / "hd.mp4"
    frames = 12 if quick else 24
    generate_sample(clip, width=1920, height=1080, frames=frames, shapes=12)
    full = list(Settings().pipeline.steps)
    without_track = [s for s in full if s != "track"]
    runs: dict[str, list[float]] = {"full": [], "no_track": []}
    step_ms: dict[str, list[float]] = {}
    for r in range(repeats):  # interleaved, so machine load hits both variants alike
        ms, per_step = _per_frame_ms(clip, out / f"hd_full_{r}", full)
        runs["full"].append(ms)
        for name, value in per_step.items():
            step_ms.setdefault(name, []).append(value)
        runs["no_track"].append(_per_frame_ms(clip, out / f"hd_nt_{r}", without_track)[0])
    med = {k: statistics.median(v) for k, v in runs.items()}
    steps = {k: round(statistics.median(v), 2) for k, v in step_ms.items()}
    all_steps = sum(steps.values())
    track = steps.get("track", 0.0)
    temporal = sum(steps.get(s, 0.0) for s in TEMPORAL_STEPS)
    return {
        "frames": frames,
        "repeats": repeats,
        "per_frame_ms_runs": {k: [round(x, 1) for x in v] for k, v in runs.items()},
        "per_frame_ms": {k: round(v, 1) for k, v in med.items()},
        "ab_track_added": round(med["full"] / med["no_track"] - 1.0, 3),
        "step_ms_per_frame": steps,
        "track_added": round(track / (all_steps - track), 3),
        "flow_track_smooth_added": round(temporal / (all_steps - temporal), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/bench_temporal", type=Path)
    parser.add_argument("--quick", action="store_true", help="fewer frames and repeats")
    parser.add_argument("--only", choices=["sample", "real", "overhead"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = {}
    started = time.perf_counter()
    if args.only in (None, "sample"):
        report["sample_identity"] = identity_on_sample(args.out, args.quick)
    if args.only in (None, "real"):
        report["real_clip"] = real_clip(args.out, args.quick)
    if args.only in (None, "overhead"):
        report["overhead_1080p"] = overhead_1080p(args.out, args.quick, 1 if args.quick else 5)
    report["bench_wall_s"] = round(time.perf_counter() - started, 1)
    (args.out / "bench_temporal.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
