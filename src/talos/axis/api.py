"""The engine's front door: trace a video into strokes.

- :func:`trace` is the Python API. It streams the strokes of each frame as you iterate,
  then has the tracks and the metrics; it writes files only when given ``out``. Its settings
  are the code defaults (and ``AXIS_*`` environment variables) with keyword overrides on
  top; it never reads ``config.yaml``.
- :func:`trace_video` writes an output folder (``lines.json``, ``frames/``,
  ``metrics.jsonl``) with the settings it is given: the CLI and the service call it.

Coordinates are px at the processing resolution, x to the right, y down; times are s from
the start of the source.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from talos.axis.context import FrameContext
from talos.axis.io.frames import circle_from_dict, stroke_from_dict, triangle_from_dict
from talos.axis.io.manifest import MANIFEST_FILE, build_manifest
from talos.axis.io.metrics_log import METRICS_FILE, MetricsLogger
from talos.axis.io.output import OutputDir
from talos.axis.io.video import FrameSource
from talos.axis.pipeline import Pipeline, default_workers
from talos.axis.steps import BuildContext, build_steps
from talos.axis.strokes import Circle, Stroke, Triangle
from talos.axis.types import PipelineObserver, ProcessingStep, RunInfo, RunSummary
from talos.config import Settings
from talos.media import VideoInfo

# Steps that only make and write the output files: a trace without ``out`` leaves them out.
FILE_STEPS = frozenset({"render", "write"})


@dataclass(frozen=True)
class TraceResult:
    """Where a trace wrote its output, what it read, and how the run went."""

    output_dir: Path
    manifest_path: Path
    source: VideoInfo
    summary: RunSummary
    manifest: Mapping[str, Any]


@dataclass(frozen=True)
class TracedFrame:
    """One traced frame.

    Attributes:
        index: Position of the frame among the traced frames (0-based).
        time: Presentation time in s from the start of the source.
        strokes: Cubic Bézier chains with per-knot pressure, stable ``stroke_id`` across
            frames (px).
        circles, triangles: The closed shapes found as primitives (px).
        metrics: Per-frame figures: ``ssim`` (strokes against their line map, 0..1),
            ``delta_kappa`` (1/px), ``reprojection_error_px``, ...
    """

    index: int
    time: float
    strokes: tuple[Stroke, ...]
    circles: tuple[Circle, ...]
    triangles: tuple[Triangle, ...]
    metrics: Mapping[str, float]

    @classmethod
    def from_context(cls, ctx: FrameContext) -> TracedFrame:
        """The vector result of a frame that went through the pipeline."""
        return cls(ctx.index, ctx.time, ctx.strokes, ctx.circles, ctx.triangles, ctx.metrics)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TracedFrame:
        """A frame file's document (``frames/NNNNNN.json``) read back."""
        return cls(
            int(data["index"]),
            float(data["time"]),
            tuple(stroke_from_dict(s) for s in data.get("strokes", ())),
            tuple(circle_from_dict(c) for c in data.get("circles", ())),
            tuple(triangle_from_dict(t) for t in data.get("triangles", ())),
            dict(data.get("metrics", {})),
        )


class TracedClip:
    """What :func:`trace` returns: iterate it for the :class:`TracedFrame` of every frame, in
    order; after the last one, :attr:`tracks` and :attr:`metrics` hold the run's results.

    Without an output folder the frames are traced as they are asked for and not kept, so
    they can be iterated once. Asking for :attr:`tracks`, :attr:`metrics` or :attr:`manifest`
    first traces the frames not yet seen. With an output folder (``trace(video, out=...)``)
    the trace has run and every iteration reads the frame files back.
    """

    def __init__(
        self,
        source: VideoInfo,
        frames: Generator[TracedFrame, None, Mapping[str, Any]] | None = None,
        *,
        output_dir: Path | None = None,
        manifest: Mapping[str, Any] | None = None,
    ) -> None:
        self.source = source
        self.output_dir = output_dir
        self._frames = frames
        self._manifest = manifest
        self._started = frames is None

    @classmethod
    def written(cls, result: TraceResult) -> TracedClip:
        """The clip of a finished :func:`trace_video`, its frames read from its files."""
        return cls(result.source, output_dir=result.output_dir, manifest=result.manifest)

    def __iter__(self) -> Iterator[TracedFrame]:
        if self._frames is None:  # written: read the frame files back, as often as asked
            assert self.output_dir is not None and self._manifest is not None
            for entry in self._manifest["frames"]:
                text = (self.output_dir / entry["path"]).read_text()
                yield TracedFrame.from_dict(json.loads(text))
            return
        if self._started:
            raise RuntimeError(
                "a trace without out= streams its frames once: call trace() again, "
                "or pass out= to keep them in files"
            )
        self._started = True
        self._manifest = yield from self._frames

    @property
    def manifest(self) -> Mapping[str, Any]:
        """What ``lines.json`` holds (written or not): source, camera, layers, tracks,
        metrics. Traces the frames not iterated yet first."""
        if not self._started:
            for _ in self:
                pass
        if self._manifest is None:
            raise RuntimeError(
                "the results come after the last frame, and this trace has not reached it "
                "(its iteration was left early, or is still going on)"
            )
        return self._manifest

    @property
    def tracks(self) -> list[dict[str, Any]]:
        """One record per stable ``stroke_id``: its first and last frame and length."""
        return list(self.manifest["tracks"])

    @property
    def metrics(self) -> dict[str, Any]:
        """The run's figures: ``frames``, ``wall_s``, ``fps``, ``ssim_mean``,
        ``delta_kappa_mean``, ``slowest_step``, per-step timings (ms) and per-frame means."""
        return dict(self.manifest["metrics"])

    @property
    def line_extraction(self) -> dict[str, Any]:
        """The edge strategy used (with ``auto``: the one chosen, and why)."""
        return dict(self.manifest["line_extraction"])


def trace(
    video: str | Path,
    out: str | Path | None = None,
    *,
    settings: Settings | None = None,
    shot: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> TracedClip:
    """Trace ``video`` (any file FFmpeg decodes, or a folder of images) into strokes.

    Parameters
    ----------
    video : path of the video or image folder.
    out : output folder; when given, ``lines.json``, ``frames/`` and ``metrics.jsonl`` are
        written there before this returns (as ``axis trace -o``), else nothing is written.
    settings : the settings to start from; default ``Settings()``, the code defaults and
        ``AXIS_*`` environment variables (``config.yaml`` is not read).
    shot : a cut spec (``cut_spec.json`` as a dict): camera, layers, style.
    **overrides : settings on top, by section, nested or dotted:
        ``edges={"strategy": "xdog"}``, ``**{"processing.max_frames": 10}``.

    Returns
    -------
    TracedClip : iterate it for the frames; then ``tracks`` and ``metrics``.

    Raises :class:`~talos.axis.errors.InputError` for an unusable input,
    :class:`~talos.axis.errors.StrategyError` for a strategy that cannot be built and
    ``pydantic.ValidationError`` for a bad setting.
    """
    settings = settings_with(settings or Settings(), overrides)
    if out is not None:
        return TracedClip.written(trace_video(video, out, settings, shot=shot))
    source = FrameSource(video, settings.processing)
    settings, line_extraction = resolve_edge_strategy(source, settings)
    shot = dict(shot or {})
    run = _run_info(source, shot, line_extraction)
    names = [name for name in settings.pipeline.steps if name not in FILE_STEPS]
    pipeline = _pipeline(build_steps(names, BuildContext(settings, None, shot)), settings)
    return TracedClip(source.info, _streamed(pipeline, source, run))


def _streamed(
    pipeline: Pipeline, source: FrameSource, run: RunInfo
) -> Generator[TracedFrame, None, Mapping[str, Any]]:
    frames = pipeline.stream(source, run)
    try:
        while True:
            try:
                ctx = next(frames)
            except StopIteration as finished:
                return build_manifest(run, finished.value)
            yield TracedFrame.from_context(ctx)
    finally:
        frames.close()  # stops decoding and the worker pool when the caller stops early


def settings_with(base: Settings, overrides: Mapping[str, Any]) -> Settings:
    """``base`` with ``overrides`` applied and validated: keys are sections (``edges``) or
    dotted paths (``edges.strategy``); a mapping value changes only the keys it names.
    Raises ``pydantic.ValidationError`` for an unknown key or a bad value."""
    if not overrides:
        return base
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        target = changes
        for part in parents:
            target = target.setdefault(part, {})
        _merge(target, {leaf: value})
    merged = base.model_dump()
    _merge(merged, changes)
    return Settings(**merged)


def _merge(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Deep-merge ``changes`` into ``target``: mappings merge key by key, values replace."""
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value


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


def _run_info(
    source: FrameSource,
    shot: Mapping[str, Any],
    line_extraction: Mapping[str, Any],
    run_id: str | None = None,
) -> RunInfo:
    return RunInfo(
        run_id=run_id or RunInfo.new_run_id(),
        width=source.width,
        height=source.height,
        fps=source.fps,
        source=source.info.to_dict(),
        shot=shot,
        expected_frames=source.expected_frames,
        line_extraction=line_extraction,
    )


def _pipeline(
    steps: Sequence[ProcessingStep],
    settings: Settings,
    observers: Sequence[PipelineObserver] = (),
) -> Pipeline:
    return Pipeline(
        steps,
        observers,
        workers=settings.processing.workers or default_workers(),
        decode_ahead=settings.processing.decode_ahead,
    )


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
    run = _run_info(source, shot, line_extraction, run_id)
    steps = build_steps(settings.pipeline.steps, BuildContext(settings, output, shot))
    metrics = MetricsLogger(output.file(METRICS_FILE))
    summary = _pipeline(steps, settings, [metrics, *observers]).run(source, run)
    manifest = build_manifest(run, summary)
    manifest_path = output.write_text(MANIFEST_FILE, json.dumps(manifest, indent=1))
    return TraceResult(output.path, manifest_path, source.info, summary, manifest)
