"""Steps on traced strokes: ``layers`` (which layer each stroke is on) and ``score`` (render
the strokes back to pixels and measure their SSIM against the line map)."""

from __future__ import annotations

import cv2
import numpy as np

from talos.axis.context import FrameContext
from talos.axis.fidelity import ssim
from talos.axis.io.frames import frame_stem
from talos.axis.layers import assign_layers, motion_mask
from talos.axis.render.raster import render_frame
from talos.axis.steps import STEPS, BuildContext
from talos.axis.strategies.edges import to_gray
from talos.axis.types import ProcessingStep, RunInfo

FOREGROUND_MASK = "foreground_mask"  # extras key: (H, W) bool, moving/near pixels


@STEPS.register("motion")
class MotionStep(ProcessingStep):
    """Foreground by motion: pixels that changed since the previous frame once the camera's
    global shift is undone (:func:`talos.axis.layers.motion_mask`), handed to ``layers`` in
    ``ctx.extras["foreground_mask"]``. Stateful (needs the previous frame); put it before
    ``layers``. The first frame has no foreground."""

    name = "motion"
    stateful = True

    def __init__(self, build: BuildContext) -> None:
        self.previous: np.ndarray | None = None

    def open(self, run: RunInfo) -> None:
        self.previous = None

    def process(self, ctx: FrameContext) -> FrameContext:
        gray = to_gray(ctx.image)
        if self.previous is None or self.previous.shape != gray.shape:
            mask = np.zeros(gray.shape, bool)
        else:
            mask = motion_mask(self.previous, gray)
        self.previous = gray
        return ctx.builder().add_extras(**{FOREGROUND_MASK: mask}).build()


@STEPS.register("layers")
class LayersStep(ProcessingStep):
    """Puts strokes on the shot's layers. A step that knows motion or depth hands a
    foreground mask in ``ctx.extras["foreground_mask"]``; without one, every stroke goes on
    the front layer (see :func:`talos.axis.layers.assign_layers`)."""

    name = "layers"

    def __init__(self, build: BuildContext) -> None:
        self.layer_names: tuple[str, ...] = tuple(build.shot.get("layers", ()) or ())

    def process(self, ctx: FrameContext) -> FrameContext:
        mask = ctx.extras.get(FOREGROUND_MASK)
        strokes, circles, triangles = assign_layers(
            ctx.strokes, mask, self.layer_names, ctx.circles, ctx.triangles
        )
        return ctx.builder().set(strokes=strokes, circles=circles, triangles=triangles).build()


@STEPS.register("score")
class ScoreStep(ProcessingStep):
    """Renders the frame's strokes (``ctx.raster``) and sets ``ctx.metrics["ssim"]`` against
    the line map; with ``output.write_png`` also adds ``frames/NNNNNN.png`` (black on white)."""

    name = "score"

    def __init__(self, build: BuildContext) -> None:
        self.write_png = build.settings.output.write_png

    def process(self, ctx: FrameContext) -> FrameContext:
        raster = render_frame(ctx.width, ctx.height, ctx.strokes, ctx.circles, ctx.triangles)
        builder = ctx.builder().set(raster=raster)
        if ctx.line_map is not None:
            builder.add_metrics(ssim=ssim(ctx.line_map, raster))
        if self.write_png:
            ok, png = cv2.imencode(".png", np.subtract(255, raster, dtype=np.uint8))
            if ok:
                builder.add_artifacts({f"{frame_stem(ctx.index)}.png": png.tobytes()})
        return builder.build()
