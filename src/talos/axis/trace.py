"""Trace one video into an output folder: the engine's front door for the CLI and services."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from talos.axis.io.manifest import MANIFEST_FILE, build_manifest
from talos.axis.io.output import OutputDir
from talos.axis.io.video import FrameSource, VideoInfo
from talos.axis.metrics import METRICS_FILE, MetricsLogger
from talos.axis.pipeline import Pipeline, PipelineObserver, RunInfo, RunSummary, default_workers
from talos.axis.steps import BuildContext, build_steps
from talos.config import Settings


@dataclass(frozen=True)
class TraceResult:
    """Where a trace wrote its output, what it read, and how the run went."""

    output_dir: Path
    manifest_path: Path
    source: VideoInfo
    summary: RunSummary
    manifest: Mapping[str, Any]


def trace_video(
    input_path: str | Path,
    output_dir: str | Path,
    settings: Settings,
    observers: Sequence[PipelineObserver] = (),
    shot: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> TraceResult:
    """Run the configured pipeline over ``input_path`` and write BRIEF §7's layout to
    ``output_dir``: ``lines.json``, ``frames/NNNNNN.{json,svg}`` and ``metrics.jsonl``.

    Raises :class:`~talos.axis.errors.InputError` for unusable input and
    :class:`~talos.axis.errors.StrategyError` for a step or strategy that cannot be built.
    """
    source = FrameSource(input_path, settings.processing)
    output = OutputDir(output_dir)
    shot = dict(shot or {})
    run = RunInfo(
        run_id=run_id or RunInfo.new_run_id(),
        width=source.width,
        height=source.height,
        fps=source.fps,
        source=source.info.to_dict(),
        shot=shot,
        expected_frames=source.expected_frames,
    )
    steps = build_steps(settings.pipeline.steps, BuildContext(settings, output, shot))
    workers = settings.processing.workers or default_workers()
    metrics = MetricsLogger(output.file(METRICS_FILE))
    pipeline = Pipeline(
        steps,
        [metrics, *observers],
        workers=workers,
        decode_ahead=settings.processing.decode_ahead,
    )
    summary = pipeline.run(source, run)
    manifest = build_manifest(run, summary)
    manifest_path = output.write_text(MANIFEST_FILE, json.dumps(manifest, indent=1))
    return TraceResult(output.path, manifest_path, source.info, summary, manifest)
