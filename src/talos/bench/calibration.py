"""A small, fixed workload timed in the same run as a benchmark, so that figures become
ratios ("calibration units") comparable across machines and across a noisy shared box.

The workload mirrors what the pipeline spends its time on, one frame's worth at 960×540:
OpenCV filtering (Gaussian blurs, as in XDoG), contour following, numpy reductions, and
Python-level string formatting (as in SVG/JSON writing). It runs on one thread (OpenCV's
own thread pool is set to 1 while it runs), so it measures the speed of one core.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import cv2
import numpy as np

from talos.axis.context import FrameContext
from talos.axis.types import PipelineObserver, StepEvent

_SIZE = (540, 960)


def _workload_input() -> np.ndarray:
    rng = np.random.default_rng(1234)
    image = rng.integers(0, 256, _SIZE, dtype=np.uint8)
    return cv2.GaussianBlur(image, (0, 0), 3)


def calibration_workload(image: np.ndarray) -> int:
    """One pass of the workload over ``image`` ``(540, 960)`` uint8; returns a checksum so
    nothing can be optimised away."""
    gray = image.astype(np.float32) * (1.0 / 255.0)
    narrow = cv2.GaussianBlur(gray, (0, 0), 1.2)
    wide = cv2.GaussianBlur(gray, (0, 0), 1.92)
    mask = np.where(narrow - 0.98 * wide < -0.002, np.uint8(255), np.uint8(0))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    total = int(mask.sum() // 255) + int(np.percentile(narrow, 90) * 1000)
    text = []
    for contour in contours[:400]:
        pts = contour.reshape(-1, 2)[:16]
        text.append("M" + " ".join(f"{x:.2f} {y:.2f}" for x, y in pts.tolist()))
    return total + len("".join(text))


def measure_calibration(repeats: int = 5) -> float:
    """Median wall time of the workload over ``repeats`` runs, in ms (after one warm-up)."""
    image = _workload_input()
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        calibration_workload(image)
        times = []
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            calibration_workload(image)
            times.append((time.perf_counter() - start) * 1000.0)
    finally:
        cv2.setNumThreads(threads)
    return float(statistics.median(times))


class CalibrationProbe(PipelineObserver):
    """Runs the calibration workload once after every frame, in the pipeline's own thread,
    and calibrates each step's time against the probes around it.

    For the CI gate (serial mode: every step in this thread): load on a shared machine comes
    and goes within seconds, and a probe taken right next to the frame sees the same load as
    the frame did. Frame ``i``'s step time is divided by the median probe of frames
    ``i - window .. i + window`` (:meth:`ratios`; :func:`pooled_percentiles` over runs).
    """

    def __init__(self, window: int = 2) -> None:
        self.window = window
        self.probe_ms: list[float] = []
        self.step_ms: dict[str, list[float]] = {}
        self._image = _workload_input()
        self._frame_steps: dict[str, float] = {}

    def on_step_finished(self, event: StepEvent) -> None:
        self._frame_steps[event.step] = event.duration_ms

    def on_frame_processed(self, ctx: FrameContext, events: Sequence[StepEvent]) -> None:
        for step, ms in self._frame_steps.items():
            self.step_ms.setdefault(step, []).append(ms)
        self._frame_steps = {}
        start = time.perf_counter()
        calibration_workload(self._image)
        self.probe_ms.append((time.perf_counter() - start) * 1000.0)

    def ratios(self, warmup: int = 2) -> dict[str, list[float]]:
        """Per step, each frame's time divided by the local probe time, leaving out the first
        ``warmup`` frames (first calls fill caches and allocators)."""
        probes = np.asarray(self.probe_ms)
        if probes.size <= warmup:
            warmup = 0
        local = np.array(
            [
                np.median(probes[max(0, i - self.window) : i + self.window + 1])
                for i in range(probes.size)
            ]
        )
        result = {}
        for step, values in self.step_ms.items():
            n = min(len(values), local.size)
            result[step] = (np.asarray(values[warmup:n]) / local[warmup:n]).tolist()
        return result


def pooled_percentiles(runs: Sequence[dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """``p50_cal``/``p95_cal`` per step over the frames of all runs pooled (a median of
    per-run medians wastes the samples when each run is short)."""
    steps: dict[str, list[float]] = {}
    for run in runs:
        for step, ratios in run.items():
            steps.setdefault(step, []).extend(ratios)
    return {
        step: {"p50_cal": float(np.percentile(v, 50)), "p95_cal": float(np.percentile(v, 95))}
        for step, v in steps.items()
        if v
    }
