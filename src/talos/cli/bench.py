"""``axis bench``: the pipeline benchmark, the vectorizer comparison and the CI perf gate;
the quality benchmarks (``axis bench lines``, ``axis bench temporal``) are in
:mod:`talos.cli.bench_quality`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from talos.cli import EXIT_USAGE, CliError, bench_quality
from talos.cli.common import (
    BENCH_OUTPUT,
    add_config_option,
    check_input,
    progress_printer,
    require_positive,
    settings_from_args,
)

DEFAULT_BASELINE = "benchmarks/baseline.json"
GATE_FRAMES = 32
GATE_REPEAT = 3
# Per measurement; a failed gate measures a second time, so the gate stays under 2 minutes.
GATE_BUDGET_S = 55.0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "bench",
        help="benchmark the pipeline on the standard clip (and gate against the baseline)",
        description=(
            "Run the configured pipeline on the standard clip (10 s, 1920x1080, 24 fps; "
            "generated and cached on first use) or --input, and print and write "
            "OUTDIR/bench.json: wall time, fps, per-step p50/p95/share, peak RSS, output "
            "bytes, SSIM, delta-kappa, identity metrics, each time also as a ratio to a "
            "calibration workload measured in the same run. --gate compares those ratios "
            "with the committed baseline (warn > 15%, fail > 35% slower). "
            "'axis bench vectorize' compares the vectorizer with potrace and vtracer."
        ),
    )
    _add_common(parser)
    parser.add_argument(
        "--frames", type=int, metavar="N", help=f"first N frames only (gate: {GATE_FRAMES})"
    )
    parser.add_argument(
        "--repeat", type=int, metavar="K", help=f"runs; figures are medians (gate: {GATE_REPEAT})"
    )
    parser.add_argument(
        "--compare", action="store_true", help="also compare vectorizers (potrace, vtracer)"
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="one process, decoding in line, OpenCV on one thread (the gate's mode)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the last run with pyinstrument (implies --serial): OUTDIR/profile.html/.txt",
    )
    parser.add_argument(
        "--gate", action="store_true", help="compare with the baseline; exit 1 on a regression"
    )
    parser.add_argument(
        "--baseline", default=DEFAULT_BASELINE, metavar="FILE", help="baseline for --gate"
    )
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help="with --gate: write this run as the new baseline (commit it deliberately)",
    )
    parser.set_defaults(handler=run, bench_command=None)
    subcommands = parser.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    vectorize = subcommands.add_parser(
        "vectorize",
        help="compare AXIS's vectorizer with potrace and vtracer on the same line maps",
        description=(
            "Vectorize line maps of frames spread over the clip with AXIS's configured "
            "vectorizer, potrace and vtracer (binary mode), side by side in one run; print a "
            "table (ms per frame, SVG bytes, control points, SSIM, ratios to AXIS) and write "
            "OUTDIR/compare.json."
        ),
    )
    _add_common(vectorize)
    vectorize.add_argument(
        "--maps", type=int, default=5, metavar="K", help="number of line maps (frames)"
    )
    vectorize.add_argument("--repeat", type=int, default=3, metavar="R", help="runs per map")
    vectorize.set_defaults(handler=run_vectorize)
    bench_quality.register(subcommands)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", default=BENCH_OUTPUT, metavar="OUTDIR", help="report folder"
    )
    parser.add_argument(
        "--input", metavar="FILE", help="clip to run on (default: the standard clip)"
    )
    parser.add_argument(
        "--clips",
        default="out/clips",
        metavar="DIR",
        help="where generated standard clips are cached",
    )
    add_config_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _input_clip(args: argparse.Namespace, frames: int | None) -> Path:
    from talos.bench.standard import STANDARD, cached_clip

    if args.input:
        return Path(args.input)
    spec = STANDARD.with_frames(frames) if frames and frames < STANDARD.frames else STANDARD
    try:
        return cached_clip(args.clips, spec)
    except OSError as exc:
        raise CliError(f"cannot write the standard clip under {args.clips}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from talos.bench.measure import run_benchmark
    from talos.bench.report import format_report, write_report

    require_positive(args.frames, "--frames")
    require_positive(args.repeat, "--repeat")
    if args.update_baseline and not args.gate:
        raise CliError("--update-baseline needs --gate", EXIT_USAGE)
    if args.profile and args.gate:
        raise CliError("--profile and --gate do not mix (the profiler slows the steps)", EXIT_USAGE)
    if args.profile:
        try:
            import pyinstrument  # noqa: F401
        except ImportError:
            raise CliError("--profile needs pyinstrument (pip install pyinstrument)") from None
    settings = settings_from_args(args)
    baseline = None
    frames, repeat = args.frames, args.repeat
    if args.gate:
        baseline = None if args.update_baseline else _gate_baseline(args)
        frames = frames or (baseline or {}).get("frames") or GATE_FRAMES
        repeat = repeat or GATE_REPEAT
    clip = _input_clip(args, frames)
    check_input(clip, settings)

    def measure() -> dict[str, Any]:
        return run_benchmark(
            clip,
            args.output,
            settings,
            frames=frames,
            repeat=repeat or 1,
            serial=args.serial or args.gate or args.profile,
            progress=progress_printer(args),
            budget_s=GATE_BUDGET_S if args.gate else None,
            profile=args.profile,
        )

    report = measure()
    print(format_report(report))
    if args.compare:
        report["compare"] = _comparison(args, clip, settings, maps=5, repeat=3)
    gate_failure = None
    if args.gate:
        report, gate_failure = _run_gate(args, report, baseline, measure)
    path = write_report(report, args.output)
    print(path)
    if gate_failure:
        raise CliError(gate_failure)
    return 0


def _gate_baseline(args: argparse.Namespace) -> dict[str, Any]:
    from talos.bench.gate import BaselineError, load_baseline

    try:
        return load_baseline(args.baseline)
    except BaselineError as exc:
        raise CliError(str(exc)) from None


def _run_gate(
    args: argparse.Namespace,
    report: dict[str, Any],
    baseline: dict[str, Any] | None,
    measure: Any,
) -> tuple[dict[str, Any], str | None]:
    """Judge the report (measuring once more after a failure, see ``gate.confirm``); return
    the report to write and the failure line, or None. Writes the baseline if asked."""
    from talos.bench.gate import baseline_from_report, confirm, format_gate, gate_report
    from talos.bench.report import format_report

    if args.update_baseline:
        path = Path(args.baseline)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(baseline_from_report(report), indent=1) + "\n")
        print(f"baseline written: {path} (review and commit it)")
        return report, None
    assert baseline is not None
    result = gate_report(report, baseline)
    if result.failed:
        print(format_gate(result))
        progress_printer(args)("gate failed; measuring again to confirm")
        report = measure()
        print(format_report(report))
        result = confirm(result, gate_report(report, baseline))
    report["gate"] = result.to_dict()
    print(format_gate(result))
    if result.failed:
        worst = [v for v in result.verdicts if v.status == "fail"]
        named = ", ".join(f"'{v.step}' {v.change:+.0%}" for v in worst)
        return report, f"performance gate failed: slower than {args.baseline} in {named}"
    return report, None


def _comparison(
    args: argparse.Namespace, clip: Path, settings: Any, maps: int, repeat: int
) -> dict[str, Any]:
    from talos.bench.compare import compare_vectorizers, format_comparison, sample_line_maps

    progress_printer(args)(f"comparing vectorizers on {maps} line maps")
    report = compare_vectorizers(sample_line_maps(clip, settings, maps), settings, repeat)
    print(format_comparison(report))
    return report


def run_vectorize(args: argparse.Namespace) -> int:
    require_positive(args.maps, "--maps")
    require_positive(args.repeat, "--repeat")
    settings = settings_from_args(args)
    clip = _input_clip(args, None)
    check_input(clip, settings)
    report = _comparison(args, clip, settings, args.maps, args.repeat)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "compare.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(path)
    return 0
