"""Trace one video into an output folder: the engine's front door for the CLI and services."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from talos.axis.io.manifest import MANIFEST_FILE, build_manifest
from talos.axis.io.metrics_log import METRICS_FILE, MetricsLogger
from talos.axis.io.output import OutputDir
from talos.axis.io.video import FrameSource
from talos.axis.pipeline import Pipeline, default_workers
from talos.axis.steps import BuildContext, build_steps
from talos.axis.types import PipelineObserver, RunInfo, RunSummary
from talos.config import Settings
from talos.media import VideoInfo


@dataclass(frozen=True)
class TraceResult:
    """Where a trace wrote its output, what it read, and how the run went."""

    output_dir: Path
    manifest_path: Path
    source: VideoInfo
    summary: RunSummary
    manifest: Mapping[str, Any]


def resolve_edge_strategy(
    source: FrameSource, settings: Settings
) -> tuple[Settings, dict[str, Any]]:
    """``settings`` with ``edges.strategy: auto`` replaced by the strategy chosen from the
    shot's first frames (:mod:`talos.axis.strategies.auto`), and the record of the choice
    for ``lines.json``. Any other strategy is kept and recorded as it is."""
    requested = settings.edges.strategy
    if requested != "auto":
        return settings, {"requested": requested, "strategy": requested}
    from talos.axis.strategies.auto import FRAMES, choose_edge_strategy

    choice = choose_edge_strategy(
        frame.image for frame, _ in zip(source, range(FRAMES), strict=False)
    )
    edges = settings.edges.model_copy(update={"strategy": choice.strategy})
    return settings.model_copy(update={"edges": edges}), choice.to_dict()


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
    settings, line_extraction = resolve_edge_strategy(source, settings)
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
        line_extraction=line_extraction,
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
