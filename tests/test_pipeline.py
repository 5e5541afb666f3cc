from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from talos.axis.context import FrameContext
from talos.axis.io.metrics_log import MetricsLogger, format_step_table
from talos.axis.pipeline import Pipeline
from talos.axis.types import (
    Frame,
    PipelineError,
    PipelineObserver,
    ProcessingStep,
    RunInfo,
    RunSummary,
    StepEvent,
)


class Brighten(ProcessingStep):
    name = "brighten"

    def process(self, ctx: FrameContext) -> FrameContext:
        return ctx.builder().set(image=ctx.image + 1).add_counts(pixels=ctx.image.size).build()


class Collect(ProcessingStep):
    name = "collect"
    stateful = True

    def __init__(self) -> None:
        self.seen: list[int] = []

    def process(self, ctx: FrameContext) -> FrameContext:
        self.seen.append(ctx.index)
        return ctx.builder().add_metrics(ssim=0.5 + ctx.index / 100).build()

    def close(self, run: RunInfo):
        return {"seen": list(self.seen)}


class Explode(ProcessingStep):
    name = "explode"

    def process(self, ctx: FrameContext) -> FrameContext:
        if ctx.index == 2:
            raise RuntimeError("boom")
        return ctx


class Recorder(PipelineObserver):
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def on_run_started(self, run: RunInfo) -> None:
        self.calls.append(("started", run.run_id))

    def on_step_finished(self, event: StepEvent) -> None:
        self.calls.append(("step", (event.frame_index, event.step)))

    def on_frame_processed(self, ctx: FrameContext, events: Sequence[StepEvent]) -> None:
        self.calls.append(("frame", ctx.index))

    def on_run_finished(self, summary: RunSummary) -> None:
        self.calls.append(("finished", summary.frames))


def _frames(n: int):
    for i in range(n):
        yield Frame(i, i / 24, np.full((8, 8, 3), i, np.uint8), i)


RUN = RunInfo(run_id="r1", width=8, height=8, fps=24.0)


def test_observers_see_every_step_of_every_frame_in_order():
    recorder = Recorder()
    collect = Collect()
    summary = Pipeline([Brighten(), collect], [recorder]).run(_frames(3), RUN)
    assert recorder.calls[0] == ("started", "r1")
    assert recorder.calls[-1] == ("finished", 3)
    expected = []
    for i in range(3):
        expected += [("step", (i, "decode")), ("step", (i, "brighten")), ("step", (i, "collect"))]
        expected.append(("frame", i))
    assert recorder.calls[1:-1] == expected
    assert summary.results["seen"] == [0, 1, 2]
    assert summary.metrics["ssim"] == pytest.approx(0.51)
    assert [s.step for s in summary.steps] == ["decode", "brighten", "collect"]
    assert sum(s.share for s in summary.steps) == pytest.approx(1.0)
    assert summary.counts["pixels"] == 3 * 192


def test_worker_pool_gives_the_same_results_in_order():
    one = Collect()
    two = Collect()
    s1 = Pipeline([Brighten(), one], workers=1).run(_frames(9), RUN)
    s2 = Pipeline([Brighten(), two], workers=2).run(_frames(9), RUN)
    assert one.seen == two.seen == list(range(9))
    assert s1.metrics == s2.metrics and s1.counts == s2.counts


@pytest.mark.parametrize("workers", [1, 2])
def test_failing_step_names_step_and_frame(workers: int):
    with pytest.raises(PipelineError, match="step 'explode' failed on frame 2: RuntimeError: boom"):
        Pipeline([Explode(), Collect()], workers=workers).run(_frames(5), RUN)


def test_metrics_logger_writes_steps_frames_and_summary(tmp_path: Path):
    path = tmp_path / "metrics.jsonl"
    summary = Pipeline([Brighten(), Collect()], [MetricsLogger(path)]).run(_frames(4), RUN)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    steps = [r for r in records if r["type"] == "step"]
    frames = [r for r in records if r["type"] == "frame"]
    assert len(steps) == 4 * 3 and len(frames) == 4
    assert records[-1]["type"] == "summary"
    first = steps[1]
    assert first["run_id"] == "r1" and first["frame"] == 0 and first["step"] == "brighten"
    assert first["duration_ms"] >= 0 and first["start"] > 1.6e9
    assert first["counts"] == {"pixels": 192}
    assert frames[2]["metrics"]["ssim"] == pytest.approx(0.52)
    final = records[-1]
    assert set(final["steps"]) == {"decode", "brighten", "collect"}
    for stats in final["steps"].values():
        assert {"p50_ms", "p95_ms", "total_ms", "share", "calls"} <= set(stats)
    assert final["slowest_step"] in final["steps"]
    table = format_step_table(summary)
    assert "slowest" in table and "brighten" in table


def test_duplicate_step_names_are_refused():
    with pytest.raises(ValueError, match="unique"):
        Pipeline([Brighten(), Brighten()])
