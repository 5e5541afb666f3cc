"""The pipeline: frames in, steps run in order on each, every step of every frame timed.

A :class:`Pipeline` is a list of :class:`ProcessingStep` objects and a list of
:class:`PipelineObserver` objects. For every frame it builds a :class:`FrameContext`, runs the
steps, and tells the observers what each step took (:class:`StepEvent`). Decoding is timed as
the step ``decode``.

Steps that look at one frame alone (``stateful = False``) may run in a pool of worker
processes, several frames at once; the first stateful step and every step after it run in
this process, in frame order (tracking needs the previous frame's result). Results reach the
observers in frame order either way, and the number of frames in flight is bounded, so memory
does not grow with the length of the clip.

The types the runner, the steps and the observers share (:class:`Frame`, :class:`RunInfo`,
:class:`ProcessingStep`, :class:`PipelineObserver`, ...) are in :mod:`talos.axis.types`;
this module is the runner: the process pool and the decoding thread (:func:`prefetch`).
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import pickle
import queue
import threading
import time
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import cv2
import numpy as np

from talos import lifeline
from talos.axis.context import FrameContext, FrameContextBuilder
from talos.axis.errors import AxisError
from talos.axis.types import (
    Frame,
    PipelineError,
    PipelineObserver,
    ProcessingStep,
    RunInfo,
    RunSummary,
    StepEvent,
    StepStats,
)


def _run_steps(
    steps: Sequence[ProcessingStep], ctx: FrameContext, run_id: str
) -> tuple[FrameContext, list[StepEvent]]:
    events = []
    for step in steps:
        start_wall = time.time()
        start = time.perf_counter()
        before = ctx.counts
        try:
            ctx = step.process(ctx)
        except AxisError:
            raise
        except Exception as exc:
            raise PipelineError(
                f"step {step.name!r} failed on frame {ctx.index}: {type(exc).__name__}: {exc}"
            ) from exc
        duration_ms = (time.perf_counter() - start) * 1000.0
        counts = {k: v for k, v in ctx.counts.items() if before.get(k) != v}
        events.append(StepEvent(run_id, ctx.index, step.name, start_wall, duration_ms, counts))
    return ctx, events


# Worker-process side of the pool: the steps are sent once, at start-up.
_worker_steps: Sequence[ProcessingStep] = ()


def _init_worker(steps: Sequence[ProcessingStep], run: RunInfo) -> None:
    global _worker_steps
    # The pool already keeps every core busy with one frame per process; OpenCV's own thread
    # pool on top of that only oversubscribes the cores.
    cv2.setNumThreads(1)
    _worker_steps = steps
    for step in steps:
        step.open(run)


# Stands in for a frame's image on the way back from a worker when no step replaced it: the
# main process still holds the image it sent, and a 1080p frame is 6 MB of pickling each way.
_IMAGE_KEPT = np.zeros((0, 0, 3), np.uint8)


def _worker_run(ctx: FrameContext, run_id: str) -> tuple[FrameContext, list[StepEvent]]:
    done, events = _run_steps(_worker_steps, ctx, run_id)
    if done.image is ctx.image:
        done = dataclasses.replace(done, image=_IMAGE_KEPT)
    return done, events


def _with_image(ctx: FrameContext, image: np.ndarray) -> FrameContext:
    """Put back the image a worker left out (see ``_IMAGE_KEPT``)."""
    return dataclasses.replace(ctx, image=image) if ctx.image.size == 0 else ctx


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0


class Pipeline:
    """Runs ``steps`` over frames, timing each; ``workers > 1`` runs stateless steps in a pool."""

    def __init__(
        self,
        steps: Sequence[ProcessingStep],
        observers: Sequence[PipelineObserver] = (),
        workers: int = 1,
        decode_ahead: int = 2,
    ) -> None:
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique, got {names}")
        self.steps = list(steps)
        self.observers = list(observers)
        self.workers = max(1, workers)
        self.decode_ahead = decode_ahead
        split = next((i for i, s in enumerate(self.steps) if s.stateful), len(self.steps))
        self._parallel_steps = self.steps[:split]
        self._ordered_steps = self.steps[split:]

    def run(self, frames: Iterable[Frame], run: RunInfo) -> RunSummary:
        """Process every frame; return the run's summary. Observers see everything in order."""
        frames_done = self.stream(frames, run)
        while True:
            try:
                next(frames_done)
            except StopIteration as finished:
                summary: RunSummary = finished.value
                return summary

    def stream(
        self, frames: Iterable[Frame], run: RunInfo
    ) -> Generator[FrameContext, None, RunSummary]:
        """:meth:`run` a frame at a time: yield each frame's context once its last step ran and
        the observers heard of it; the generator's return value is the run's summary.

        Nothing is kept from one frame to the next here, so a caller that drops each context
        holds one frame at a time (plus the frames in flight). Its wall time includes the time
        the caller spends between frames. Closing the generator early stops decoding and the
        worker pool; the steps are then not closed and no summary is made.
        """
        durations: dict[str, list[float]] = {"decode": []}
        for step in self.steps:
            durations[step.name] = []
        metric_sums: dict[str, float] = {}
        metric_counts: dict[str, int] = {}
        count_sums: dict[str, int] = {}
        frame_count = 0

        for observer in self.observers:
            observer.on_run_started(run)
        for step in self._ordered_steps:
            step.open(run)
        started = time.perf_counter()

        for ctx, events in self._process_all(frames, run):
            frame_count += 1
            for event in events:
                durations[event.step].append(event.duration_ms)
                for observer in self.observers:
                    observer.on_step_finished(event)
            for key, value in ctx.metrics.items():
                if math.isfinite(value):
                    metric_sums[key] = metric_sums.get(key, 0.0) + value
                    metric_counts[key] = metric_counts.get(key, 0) + 1
            for key, value in ctx.counts.items():
                count_sums[key] = count_sums.get(key, 0) + value
            for observer in self.observers:
                observer.on_frame_processed(ctx, events)
            yield ctx

        results: dict[str, Any] = {}
        for step in self.steps:
            results.update(step.close(run))
        wall_s = time.perf_counter() - started
        total_ms = sum(sum(v) for v in durations.values()) or 1.0
        stats = [
            StepStats(
                step=name,
                calls=len(values),
                p50_ms=_percentile(values, 50),
                p95_ms=_percentile(values, 95),
                total_ms=float(sum(values)),
                share=float(sum(values)) / total_ms,
            )
            for name, values in durations.items()
        ]
        summary = RunSummary(
            run_id=run.run_id,
            frames=frame_count,
            wall_s=wall_s,
            steps=stats,
            metrics={k: metric_sums[k] / metric_counts[k] for k in metric_sums},
            counts=count_sums,
            results=results,
        )
        for observer in self.observers:
            observer.on_run_finished(summary)
        return summary

    def _contexts(
        self, frames: Iterable[Frame], run: RunInfo
    ) -> Iterator[tuple[FrameContext, StepEvent]]:
        """Decode frames in a background thread (:func:`prefetch`), ``decode_ahead`` frames
        ahead of the steps; each frame's decode time is its ``decode`` step."""
        for frame, start_wall, duration_ms in prefetch(frames, self.decode_ahead):
            ctx = FrameContextBuilder(
                index=frame.index,
                time=frame.time,
                image=frame.image,
                source_index=frame.source_index,
            ).build()
            yield ctx, StepEvent(run.run_id, frame.index, "decode", start_wall, duration_ms)

    def _process_all(
        self, frames: Iterable[Frame], run: RunInfo
    ) -> Iterator[tuple[FrameContext, list[StepEvent]]]:
        for ctx, events in self._parallel_results(frames, run):
            ctx, more = _run_steps(self._ordered_steps, ctx, run.run_id)
            yield ctx, events + more

    def _parallel_results(
        self, frames: Iterable[Frame], run: RunInfo
    ) -> Iterator[tuple[FrameContext, list[StepEvent]]]:
        if self.workers == 1 or not self._parallel_steps:
            for step in self._parallel_steps:
                step.open(run)
            for ctx, decode_event in self._contexts(frames, run):
                ctx, events = _run_steps(self._parallel_steps, ctx, run.run_id)
                yield ctx, [decode_event, *events]
            return

        window = 2 * self.workers
        pending: deque[
            tuple[StepEvent, np.ndarray, Future[tuple[FrameContext, list[StepEvent]]]]
        ] = deque()
        context = multiprocessing.get_context("forkserver")
        # The workers fill the cores; the ordered steps here run single-threaded beside them.
        opencv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        with ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=lifeline.start,
            # The worker watches this process before it unpickles (and so imports) the steps:
            # see talos.lifeline.
            initargs=(os.getpid(), pickle.dumps((_init_worker, (self._parallel_steps, run)))),
        ) as pool:
            try:
                for ctx, decode_event in self._contexts(frames, run):
                    future = pool.submit(_worker_run, ctx, run.run_id)
                    pending.append((decode_event, ctx.image, future))
                    if len(pending) >= window:
                        decode_event, image, future = pending.popleft()
                        done, events = future.result()
                        yield _with_image(done, image), [decode_event, *events]
                while pending:
                    decode_event, image, future = pending.popleft()
                    done, events = future.result()
                    yield _with_image(done, image), [decode_event, *events]
            finally:
                for _, _, future in pending:
                    future.cancel()
                cv2.setNumThreads(opencv_threads)


@dataclasses.dataclass(frozen=True)
class _Done:
    """The decoding thread's last word: the exception ``items`` raised, or None."""

    error: BaseException | None


def prefetch(items: Iterable[Any], ahead: int = 2) -> Iterator[tuple[Any, float, float]]:
    """Iterate ``items`` in a background thread, at most ``ahead`` items in front of the
    consumer; yield ``(item, start, duration_ms)``: when producing it began (Unix time, s)
    and how long it took (the producer's own time, not the consumer's wait).

    Decoding (PyAV) and OpenCV release the GIL, so the next frame decodes while the steps
    work on this one; the bounded queue keeps at most ``ahead + 1`` decoded frames in memory.
    ``ahead = 0`` iterates in the calling thread. An exception raised by ``items`` is raised
    here, at the item where it happened; closing this generator stops the thread.
    """
    if ahead <= 0:
        iterator = iter(items)
        while True:
            start_wall, start = time.time(), time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            yield item, start_wall, (time.perf_counter() - start) * 1000.0

    handoff: queue.Queue[tuple[Any, float, float] | _Done] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(entry: tuple[Any, float, float] | _Done) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            while not stop.is_set():
                start_wall, start = time.time(), time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                if not put((item, start_wall, (time.perf_counter() - start) * 1000.0)):
                    return
            put(_Done(None))
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Done(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # a generator source closes its file in this thread

    thread = threading.Thread(target=produce, name="axis-decode", daemon=True)
    thread.start()
    try:
        while True:
            entry = handoff.get()
            if isinstance(entry, _Done):
                if entry.error is not None:
                    raise entry.error
                return
            yield entry
    finally:
        stop.set()
        thread.join()


def default_workers() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
