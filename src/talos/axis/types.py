"""The engine's vocabulary: what the pipeline, its steps and its observers hand each other.

A :class:`Frame` comes from a source (:mod:`talos.axis.io.video`); :class:`ProcessingStep`
objects turn its :class:`~talos.axis.context.FrameContext` into a new one; observers
(:class:`PipelineObserver`) hear a :class:`StepEvent` per step of every frame and the
:class:`RunSummary` at the end. :class:`RunInfo` is what everyone knows about the run.

This module imports nothing of the engine above the frame context and the errors, so that
sources, writers and steps can use these types without importing the runner
(:mod:`talos.axis.pipeline`).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from talos.axis.context import FrameContext
from talos.axis.errors import AxisError


@dataclass(frozen=True)
class Frame:
    """A decoded frame: ``image`` is ``(H, W, 3)`` uint8 BGR at the processing resolution."""

    index: int
    time: float
    image: np.ndarray
    source_index: int = 0


@dataclass(frozen=True)
class RunInfo:
    """What every step and observer knows about the run as a whole."""

    run_id: str
    width: int
    height: int
    fps: float
    source: Mapping[str, Any] = field(default_factory=dict)
    shot: Mapping[str, Any] = field(default_factory=dict)
    expected_frames: int | None = None  # how many frames the source will give, when known
    line_extraction: Mapping[str, Any] = field(default_factory=dict)  # edge strategy used

    @staticmethod
    def new_run_id() -> str:
        """A fresh run id: 12 hex characters."""
        return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class StepEvent:
    """One step's work on one frame. ``start`` is Unix time in s; ``duration_ms`` wall time."""

    run_id: str
    frame_index: int
    step: str
    start: float
    duration_ms: float
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StepStats:
    """Per-step summary over a run; ``share`` is this step's part of all step time (0..1)."""

    step: str
    calls: int
    p50_ms: float
    p95_ms: float
    total_ms: float
    share: float


@dataclass
class RunSummary:
    """What a run did: frame count, wall time, per-step statistics and mean frame metrics."""

    run_id: str
    frames: int
    wall_s: float
    steps: list[StepStats]
    metrics: dict[str, float]
    counts: dict[str, int]
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        """Frames per second of wall time (0 for a run that took no time)."""
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def slowest_step(self) -> StepStats | None:
        """The step with the largest total time (None for a run without steps)."""
        return max(self.steps, key=lambda s: s.total_ms, default=None)


class ProcessingStep(ABC):
    """One stage of the pipeline. Subclasses set ``name`` and implement :meth:`process`.

    Set ``stateful = True`` when the step must see frames in order in one process (it keeps
    state from frame to frame, or writes shared output). :meth:`open` is called before the
    first frame and :meth:`close` after the last; what ``close`` returns is merged into
    :attr:`RunSummary.results` (e.g. a track table for the manifest).
    """

    name: ClassVar[str] = "step"
    stateful: ClassVar[bool] = False

    def open(self, run: RunInfo) -> None:  # noqa: B027 - optional hook
        """Prepare for a run."""

    @abstractmethod
    def process(self, ctx: FrameContext) -> FrameContext:
        """Return the context with this step's results added."""

    def close(self, run: RunInfo) -> Mapping[str, Any]:
        """Finish the run; return run-level results for the summary."""
        return {}


class PipelineObserver:
    """Receives timing and progress notifications. Override what you need."""

    def on_run_started(self, run: RunInfo) -> None:
        """Called once before the first frame."""

    def on_step_finished(self, event: StepEvent) -> None:
        """Called for every step of every frame, in frame order."""

    def on_frame_processed(self, ctx: FrameContext, events: Sequence[StepEvent]) -> None:
        """Called once per frame after its last step."""

    def on_run_finished(self, summary: RunSummary) -> None:
        """Called once after the last frame."""


class PipelineError(AxisError):
    """A step failed on a frame; the message names both."""
