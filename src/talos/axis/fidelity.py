"""Fidelity of traced strokes: SSIM between their rendering and the line map they came from.

:func:`ssim` is Wang et al.'s structural similarity computed with box filters (OpenCV), the
same definition as ``skimage.metrics.structural_similarity`` with its defaults (7×7 uniform
window, sample covariance, K1 = 0.01, K2 = 0.03, mean over windows wholly inside the image):

    SSIM = ((2 μx μy + C1)(2 σxy + C2)) / ((μx² + μy² + C1)(σx² + σy² + C2)),
    C1 = (K1 L)², C2 = (K2 L)², L = data range.
"""

from __future__ import annotations

import cv2
import numpy as np

from talos.axis.geometry.ragged import row_runs

WINDOW = 7
K1, K2 = 0.01, 0.03


TILE = 64  # px; tiles with no ink near them are skipped (their windows score exactly 1)


def _ssim_map(a: np.ndarray, b: np.ndarray, c1: float, c2: float) -> np.ndarray:
    """SSIM of every window wholly inside ``a``/``b`` (uint8 or float32), ``(H - 6, W - 6)``.

    Written as ``((2p + C1)(2N(Σab/n − p) + C2)) / ((q + C1)(N(Σa²/n + Σb²/n − q) + C2))``
    with ``p = μxμy``, ``q = μx² + μy²`` and ``N = n/(n−1)`` (sample covariance), using
    OpenCV's in-place arithmetic: four box filters and a dozen single passes over the image.
    """
    n = WINDOW * WINDOW
    cov_norm = n / (n - 1.0)
    size, border, f32 = (WINDOW, WINDOW), cv2.BORDER_REFLECT, cv2.CV_32F
    mx = cv2.boxFilter(a, f32, size, borderType=border)
    my = cv2.boxFilter(b, f32, size, borderType=border)
    # Float32 arrays from here on (OpenCV's stubs type them as integer-or-float).
    squares: np.ndarray = cv2.sqrBoxFilter(a, f32, size, borderType=border)
    squares += cv2.sqrBoxFilter(b, f32, size, borderType=border)
    cross: np.ndarray = cv2.boxFilter(cv2.multiply(a, b, dtype=f32), f32, size, borderType=border)
    p: np.ndarray = cv2.multiply(mx, my)
    q: np.ndarray = cv2.multiply(mx, mx)
    q += cv2.multiply(my, my)
    cross -= p
    cross *= 2 * cov_norm
    cross += c2
    p *= 2
    p += c1
    numerator = cv2.multiply(p, cross)
    squares -= q
    squares *= cov_norm
    squares += c2
    q += c1
    ratio = cv2.divide(numerator, cv2.multiply(q, squares))
    pad = (WINDOW - 1) // 2
    return ratio[pad:-pad, pad:-pad]


def ssim(reference: np.ndarray, test: np.ndarray, data_range: float = 255.0) -> float:
    """Mean SSIM of two same-shape ``(H, W)`` images (uint8 or float), in [-1, 1].

    A window that is zero in both images scores exactly ``C1·C2 / (C1·C2) = 1``, so line
    maps (mostly empty) are scored tile by tile: tiles with no non-zero pixel within half a
    window count their windows as 1 without filtering. The result is the same mean.
    Images smaller than the 7×7 window are compared as one window (1.0 when equal).
    """
    a, b = np.asarray(reference), np.asarray(test)
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        a, b = a.astype(np.float32), b.astype(np.float32)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"ssim needs two (H, W) images of one shape, got {a.shape}, {b.shape}")
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    if min(a.shape) < WINDOW:
        if a.size == 0:
            return 1.0
        mx, my = float(a.mean()), float(b.mean())
        vx, vy = float(a.var()), float(b.var())
        cxy = float(((a - mx) * (b - my)).mean())
        return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    h, w = a.shape
    pad = (WINDOW - 1) // 2
    windows: int = (h - 2 * pad) * (w - 2 * pad)
    either = cv2.bitwise_or(a, b) if a.dtype == np.uint8 else (a != 0) | (b != 0)
    ink = either.view(np.uint8)  # non-zero where either image has ink
    near_ink = cv2.dilate(ink, np.ones((WINDOW, WINDOW), np.uint8))
    rows, cols = -(-h // TILE), -(-w // TILE)
    grid = np.zeros((rows * TILE, cols * TILE), np.uint8)
    grid[:h, :w] = near_ink
    active = grid.reshape(rows, TILE, cols, TILE).max(axis=(1, 3)) > 0
    if active.mean() > 0.6:  # mostly ink: one pass over the whole image is cheaper
        return float(_ssim_map(a, b, c1, c2).mean(dtype=np.float64))
    total, counted = 0.0, 0
    # Runs of active tiles along each tile row, scored as one strip each (fewer, larger
    # OpenCV calls; a window centred in the strip reads only the strip and its margin).
    for ty, t0, t1 in row_runs(active):
        # Window centres of this strip that are valid for the whole image.
        r0, r1 = max(ty * TILE, pad), min((ty + 1) * TILE, h - pad)
        q0, q1 = max(t0 * TILE, pad), min(t1 * TILE, w - pad)
        if r0 >= r1 or q0 >= q1:
            continue
        part = _ssim_map(
            a[r0 - pad : r1 + pad, q0 - pad : q1 + pad],
            b[r0 - pad : r1 + pad, q0 - pad : q1 + pad],
            c1,
            c2,
        )
        total += float(part.sum(dtype=np.float64))
        counted += part.size
    return (total + (windows - counted)) / windows
