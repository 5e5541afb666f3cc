"""Overlapping work: decoding ahead in a background thread (order, errors, early stop,
bounded look-ahead), and the worker pool not shipping frames back that it did not change."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from talos.axis.context import FrameContext
from talos.axis.errors import InputError
from talos.axis.pipeline import Pipeline, prefetch
from talos.axis.types import Frame, ProcessingStep, RunInfo


def _counting(n: int, produced: list[int], fail_at: int | None = None):
    for i in range(n):
        if i == fail_at:
            raise InputError(f"broken at {i}")
        produced.append(i)
        yield i


@pytest.mark.parametrize("ahead", [0, 1, 3])
def test_items_arrive_in_order_with_their_production_time(ahead):
    items = list(prefetch(_counting(20, []), ahead))
    assert [item for item, _, _ in items] == list(range(20))
    assert all(duration >= 0 and start > 0 for _, start, duration in items)


def test_a_source_error_is_raised_at_the_item_where_it_happened():
    seen = []
    with pytest.raises(InputError, match="broken at 5"):
        for item, _, _ in prefetch(_counting(10, [], fail_at=5), 2):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_look_ahead_is_bounded():
    produced: list[int] = []
    iterator = prefetch(_counting(100, produced), 2)
    next(iterator)
    threading.Event().wait(0.2)  # give the producer time to run ahead as far as it may
    # one handed out, two queued, one finished and waiting for room in the queue
    assert len(produced) <= 4
    iterator.close()


def test_closing_early_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            yield from range(1000)
        finally:
            closed.set()

    before = threading.active_count()
    iterator = prefetch(source(), 2)
    assert next(iterator)[0] == 0
    iterator.close()
    assert closed.wait(2)
    assert threading.active_count() == before


class Fail(ProcessingStep):
    name = "fail"

    def process(self, ctx: FrameContext) -> FrameContext:
        if ctx.index == 3:
            raise RuntimeError("boom")
        return ctx


def test_pipeline_stops_the_decode_thread_when_a_step_fails():
    before = threading.active_count()
    frames = (Frame(i, i / 24, np.zeros((4, 4, 3), np.uint8), i) for i in range(50))
    with pytest.raises(Exception, match="boom"):
        Pipeline([Fail()], decode_ahead=2).run(frames, RunInfo("r", 4, 4, 24.0))
    assert threading.active_count() == before


class Invert(ProcessingStep):
    name = "invert"

    def process(self, ctx: FrameContext) -> FrameContext:
        if ctx.index % 2:
            return ctx
        return ctx.builder().set(image=255 - ctx.image).build()


class Check(ProcessingStep):
    name = "check"
    stateful = True

    def __init__(self) -> None:
        self.means: list[float] = []

    def process(self, ctx: FrameContext) -> FrameContext:
        self.means.append(float(ctx.image.mean()))
        return ctx


def test_worker_pool_returns_the_frame_image_kept_or_replaced():
    check = Check()
    frames = [Frame(i, i / 24, np.full((6, 8, 3), 10 * i, np.uint8), i) for i in range(8)]
    summary = Pipeline([Invert(), check], workers=2).run(frames, RunInfo("r", 8, 6, 24.0))
    assert summary.frames == 8
    # odd frames come back as decoded (image kept in the main process), even ones inverted
    assert check.means == [255 - 10 * i if i % 2 == 0 else 10 * i for i in range(8)]
