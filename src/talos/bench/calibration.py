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

import cv2
import numpy as np

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
