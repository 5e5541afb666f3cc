"""The pipeline benchmark, measuring: run the configured pipeline over a clip, ``repeat``
times, and build the report (``bench.json``): wall time, fps, per-step p50/p95 and share, peak
RSS, output bytes and the quality figures the pipeline computes (SSIM, Δκ) and, with ground
truth, identity metrics. :mod:`talos.bench.report` checks it against the bars and prints it.

Each run happens in a fresh child process (:func:`talos.bench.isolated_run.run_once`), which
measures its wall time, peak memory and output size.

The calibration workload (:func:`talos.bench.calibration.measure_calibration`) runs before
every repeat and after the last; ``calibration_ms`` is the median, and every time is also
given divided by it (``*_cal`` keys): machine-independent "calibration units". In serial mode
(the CI gate) a :class:`~talos.bench.calibration.CalibrationProbe` also runs the workload after
every frame in the pipeline's thread, and the steps' ``*_cal`` figures are frame by frame
ratios to the probes around them, which follows load that comes and goes during a run.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil

from talos.axis.io.sample import ground_truth_path
from talos.bench.calibration import measure_calibration, pooled_percentiles
from talos.bench.isolated_run import RunMeasurement, run_once
from talos.bench.report import bars
from talos.bench.standard import clip_sha256
from talos.config import Settings

REPORT_SCHEMA = "axis-bench/1"


def machine_info() -> dict[str, Any]:
    """CPU model (as ``lscpu`` names it), usable cores, Python and OS."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return {
        "cpu": model,
        "cores": cores,
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "host": platform.node(),
    }


def bench_settings(settings: Settings, frames: int | None = None, serial: bool = False) -> Settings:
    """``settings`` limited to ``frames`` frames; ``serial`` runs every step in one process
    with decoding in line (the CI gate's mode: per-step cost on one core)."""
    processing: dict[str, Any] = {}
    if frames:
        processing["max_frames"] = frames
    if serial:
        processing.update(workers=1, decode_ahead=0)
    if not processing:
        return settings
    return settings.model_copy(
        update={"processing": settings.processing.model_copy(update=processing)}
    )


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _step_table(runs: Sequence[RunMeasurement], calibration_ms: float) -> dict[str, Any]:
    """Per step, the median over runs of p50/p95/total/share, plus calibrated p50/p95: from
    the per-frame probes where the runs had them, else divided by ``calibration_ms``."""
    probed = pooled_percentiles([r.probe["ratios"] for r in runs if r.probe])
    names: list[str] = []
    for run in runs:
        names += [n for n in run.summary["steps"] if n not in names]
    table = {}
    for name in names:
        stats = [run.summary["steps"][name] for run in runs if name in run.summary["steps"]]
        p50 = _median([s["p50_ms"] for s in stats])
        p95 = _median([s["p95_ms"] for s in stats])
        table[name] = {
            "p50_ms": round(p50, 3),
            "p95_ms": round(p95, 3),
            "total_ms": round(_median([s["total_ms"] for s in stats]), 3),
            "share": round(_median([s["share"] for s in stats]), 4),
            "p50_cal": round(
                probed[name]["p50_cal"] if name in probed else p50 / calibration_ms, 4
            ),
            "p95_cal": round(
                probed[name]["p95_cal"] if name in probed else p95 / calibration_ms, 4
            ),
        }
    return table


def identity_metrics(output_dir: Path, truth_path: Path | None) -> dict[str, Any] | None:
    """Identity figures from ``talos.axis.evaluation.identity`` when that module exists and
    the clip has ground truth; ``None`` otherwise."""
    if truth_path is None or not truth_path.is_file():
        return None
    try:
        from talos.axis.evaluation.identity import evaluate_identity
    except ImportError:
        return None
    try:
        return dict(evaluate_identity(output_dir, truth_path))
    except Exception as exc:  # an add-on figure: report why it is missing, keep the rest
        return {"error": f"{type(exc).__name__}: {exc}"}


def run_benchmark(
    input_path: str | Path,
    output_dir: str | Path,
    settings: Settings,
    frames: int | None = None,
    repeat: int = 1,
    serial: bool = False,
    progress: Callable[[str], None] | None = None,
    budget_s: float | None = None,
    profile: bool = False,
) -> dict[str, Any]:
    """Benchmark the configured pipeline on ``input_path``; return the report (bench.json).

    ``output_dir/trace`` holds the last run's output. ``serial`` runs one process, decoding
    in line, OpenCV on one thread (the gate's mode). With ``budget_s``, no further repeat
    starts once another one like the last would end past the budget (at least one run).
    ``profile`` profiles the last run (pyinstrument) into ``output_dir/profile.{html,txt}``.
    Raises :class:`BenchError` on failure.
    """
    input_path = Path(input_path)
    output = Path(output_dir)
    trace_dir = output / "trace"
    run_settings = bench_settings(settings, frames, serial)
    calibrations = []
    runs: list[RunMeasurement] = []
    started = time.perf_counter()
    for i in range(max(1, repeat)):
        elapsed = time.perf_counter() - started
        if runs and budget_s is not None and elapsed * (i + 1) / i > budget_s:
            if progress:
                progress(f"stopping after {i} runs: the next would pass {budget_s:g} s")
            break
        calibrations.append(measure_calibration())
        if progress:
            progress(f"run {i + 1}/{repeat} (calibration {calibrations[-1]:.2f} ms)")
        last = i == max(1, repeat) - 1
        profile_dir = output if profile and last else None
        runs.append(run_once(input_path, trace_dir, run_settings, serial, profile_dir))
    calibrations.append(measure_calibration())
    probes = [r.probe["median_ms"] for r in runs if r.probe]
    calibration_ms = _median(probes or calibrations)

    wall_s = _median([r.wall_s for r in runs])
    n_frames = runs[-1].frames
    metrics = runs[-1].summary.get("metrics", {})
    truth = ground_truth_path(input_path)
    report: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "input": {
            "path": str(input_path),
            "sha256": clip_sha256(input_path) if input_path.is_file() else None,
            "ground_truth": str(truth) if truth.is_file() else None,
        },
        "pipeline": {
            "steps": list(run_settings.pipeline.steps),
            "edges": run_settings.edges.strategy,
            "vectorize": run_settings.vectorize.strategy,
            "workers": run_settings.processing.workers,
            "decode_ahead": run_settings.processing.decode_ahead,
            "processing_width": run_settings.processing.width,
            "serial": serial,
        },
        "repeat": len(runs),
        "bench_s": round(time.perf_counter() - started, 2),
        "frames": n_frames,
        "wall_s": round(wall_s, 4),
        "fps": round(n_frames / wall_s, 3) if wall_s > 0 else 0.0,
        "calibration_ms": round(calibration_ms, 4),
        "calibration_runs_ms": [round(c, 4) for c in calibrations],
        "wall_per_frame_cal": round(wall_s * 1000.0 / max(1, n_frames) / calibration_ms, 4),
        "steps": _step_table(runs, calibration_ms),
        "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1),
        "peak_pss_mb": round(max(r.peak_pss_mb for r in runs), 1),
        "main_peak_rss_mb": round(max(r.main_peak_rss_mb for r in runs), 1),
        "output_bytes": runs[-1].output_bytes,
        "output_bytes_per_frame": round(runs[-1].output_bytes / max(1, n_frames)),
        "ssim": metrics.get("ssim"),
        "delta_kappa": metrics.get("delta_kappa"),
        "identity": identity_metrics(trace_dir, truth if truth.is_file() else None),
        "counts": runs[-1].summary.get("counts", {}),
        "runs": [
            {
                "wall_s": round(r.wall_s, 4),
                "fps": round(r.fps, 3),
                "peak_rss_mb": round(r.peak_rss_mb, 1),
                "step_p50_ms": {k: v["p50_ms"] for k, v in r.summary["steps"].items()},
            }
            for r in runs
        ],
    }
    report["bars"] = bars(report)
    return report
