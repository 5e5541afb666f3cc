"""``axis trace``: video or image folder in, strokes out."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from talos.axis.context import FrameContext
from talos.axis.io.metrics_log import format_step_table
from talos.axis.types import PipelineObserver, RunInfo, RunSummary, StepEvent
from talos.cli.common import add_config_option, settings_from_args


class ProgressBar(PipelineObserver):
    """A tqdm bar on stderr, one tick per frame."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: tqdm[Any] | None = None

    def on_run_started(self, run: RunInfo) -> None:
        self._bar = tqdm(
            total=run.expected_frames,
            unit="frame",
            desc="tracing",
            disable=not self.enabled,
            file=sys.stderr,
        )

    def on_frame_processed(self, ctx: FrameContext, events: Sequence[StepEvent]) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(strokes=len(ctx.strokes), refresh=False)

    def on_run_finished(self, summary: RunSummary) -> None:
        if self._bar is not None:
            self._bar.close()


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "trace",
        help="trace a video (or a folder of images) into vector strokes",
        description=(
            "Trace INPUT into OUTDIR: lines.json (manifest), frames/NNNNNN.json and .svg, "
            "metrics.jsonl. Example: axis trace clip.mp4 -o out/clip --every 2"
        ),
    )
    parser.add_argument("input", metavar="INPUT", help="video file or folder of images")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    add_config_option(parser)
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    parser.add_argument("--every", type=int, metavar="N", help="keep every N-th frame")
    parser.add_argument("--fps", type=float, help="resample to this frame rate")
    parser.add_argument("--start", type=float, metavar="SEC", help="start time in seconds")
    parser.add_argument("--end", type=float, metavar="SEC", help="end time in seconds")
    parser.add_argument("--width", type=int, help="processing width in px (aspect kept)")
    parser.add_argument("--workers", type=int, help="worker processes (1 = in-process)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from talos.axis.api import trace_video

    processing = {
        key: value
        for key, value in {
            "max_frames": args.max_frames,
            "every": args.every,
            "fps": args.fps,
            "start": args.start,
            "end": args.end,
            "width": args.width,
            "workers": args.workers,
        }.items()
        if value is not None
    }
    settings = settings_from_args(args, **({"processing": processing} if processing else {}))
    bar = ProgressBar(enabled=not args.quiet)
    result = trace_video(args.input, args.output, settings, observers=[bar])
    if not args.quiet:
        summary = result.summary
        slowest = summary.slowest_step
        ssim = summary.metrics.get("ssim")
        print(format_step_table(summary), file=sys.stderr)
        print(
            f"traced {summary.frames} frames, {summary.counts.get('strokes', 0)} strokes, "
            f"{summary.fps:.1f} fps"
            + (f", vectorizer SSIM {ssim:.3f}" if ssim is not None else "")
            + (f"; slowest step: {slowest.step} ({slowest.share:.0%})" if slowest else ""),
            file=sys.stderr,
        )
    print(result.manifest_path)
    return 0
