"""The built-in steps: line map, vectorize, render, write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talos.axis.context import FrameContext
from talos.axis.errors import StrategyError
from talos.axis.io.frames import dumps, frame_stem, frame_to_dict
from talos.axis.render.svg import frame_svg
from talos.axis.steps import STEPS, BuildContext
from talos.axis.strategies import EDGE_DETECTORS, VECTORIZERS
from talos.axis.tracking.hysteresis import pack_mask
from talos.axis.types import ProcessingStep, RunInfo


@STEPS.register("edges")
class EdgeStep(ProcessingStep):
    """Frame → line map with the ``edges.strategy`` detector."""

    name = "edges"

    def __init__(self, build: BuildContext) -> None:
        settings = build.settings
        self.detector = EDGE_DETECTORS.create(settings.edges.strategy, settings)
        # Weak candidates only when a hysteresis step will read them.
        temporal = "hysteresis" in settings.pipeline.steps and settings.tracking.enabled
        self.weak_ratio = settings.edges.temporal_low if temporal else 0.0

    def process(self, ctx: FrameContext) -> FrameContext:
        if self.weak_ratio > 0:
            line_map, weak = self.detector.detect_with_weak(ctx.image, self.weak_ratio)
        else:
            line_map, weak = self.detector.detect(ctx.image), None
        ink = int((line_map > 0).sum())
        builder = ctx.builder().set(line_map=line_map).add_counts(ink_pixels=ink)
        if weak is not None:
            builder.add_extras(weak_edges=pack_mask(weak))
        return builder.build()


@STEPS.register("vectorize")
class VectorizeStep(ProcessingStep):
    """Line map → strokes and primitives with the ``vectorize.strategy`` vectorizer."""

    name = "vectorize"

    def __init__(self, build: BuildContext) -> None:
        self.vectorizer = VECTORIZERS.create(build.settings.vectorize.strategy, build.settings)

    def process(self, ctx: FrameContext) -> FrameContext:
        if ctx.line_map is None:
            raise ValueError("vectorize needs a line map: put the edges step before it")
        result = self.vectorizer.vectorize(ctx.line_map)
        points = sum(s.control_points.shape[0] for s in result.strokes)
        builder = ctx.builder()
        if result.line_map is not None:  # score against what was actually traced
            builder.set(line_map=result.line_map)
        return (
            builder.set(strokes=result.strokes, circles=result.circles, triangles=result.triangles)
            .add_counts(
                strokes=len(result.strokes),
                control_points=points,
                circles=len(result.circles),
                triangles=len(result.triangles),
            )
            .build()
        )


@STEPS.register("render")
class RenderStep(ProcessingStep):
    """Strokes → the frame's JSON and SVG files (as artifacts for the write step)."""

    name = "render"

    def __init__(self, build: BuildContext) -> None:
        self.write_svg = build.settings.output.write_svg
        self.layer_order: tuple[str, ...] = tuple(build.shot.get("layers", ()) or ())

    def process(self, ctx: FrameContext) -> FrameContext:
        stem = frame_stem(ctx.index)
        data = frame_to_dict(
            ctx.index,
            ctx.time,
            ctx.width,
            ctx.height,
            ctx.strokes,
            ctx.circles,
            ctx.triangles,
            ctx.metrics,
        )
        files = {f"{stem}.json": dumps(data)}
        if self.write_svg:
            svg = frame_svg(
                ctx.width, ctx.height, ctx.strokes, ctx.circles, ctx.triangles, self.layer_order
            )
            files[f"{stem}.svg"] = svg.encode("utf-8")
        return ctx.builder().add_artifacts(files).build()


@STEPS.register("write")
class WriteStep(ProcessingStep):
    """Writes each frame's artifacts to the output folder and keeps the frame index."""

    name = "write"
    stateful = True

    def __init__(self, build: BuildContext) -> None:
        if build.output is None:
            raise StrategyError("the write step needs an output folder")
        self.output = build.output
        self.index: list[dict[str, Any]] = []

    def open(self, run: RunInfo) -> None:
        self.index = []

    def process(self, ctx: FrameContext) -> FrameContext:
        written = 0
        for relpath, data in ctx.artifacts.items():
            self.output.write_bytes(relpath, data)
            written += len(data)
        stem = frame_stem(ctx.index)
        entry: dict[str, Any] = {
            "index": ctx.index,
            "time": round(ctx.time, 6),
            "path": f"{stem}.json",
            "stroke_count": len(ctx.strokes),
        }
        if f"{stem}.svg" in ctx.artifacts:
            entry["svg"] = f"{stem}.svg"
        self.index.append(entry)
        return ctx.builder().add_counts(bytes_written=written).build()

    def close(self, run: RunInfo) -> Mapping[str, Any]:
        return {"frame_index": list(self.index)}
