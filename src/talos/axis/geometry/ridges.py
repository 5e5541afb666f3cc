"""Soft line maps to crisp one-pixel lines: ridge non-maximum suppression, hysteresis, thinning.

Learned edge detectors (HED and the like) give a probability ``P(x, y)`` in [0, 1] that rises
across a line to a ridge several pixels wide. :func:`thin_probability` keeps the ridge's crest
as 8-connected, one-pixel lines. Every stage works on whole images with OpenCV/NumPy kernels;
none loops over pixels in Python.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from talos.axis.geometry.sampling import sample_either_side
from talos.axis.geometry.skeleton import thin

# Gradient energy (structure-tensor trace, in P² per px²) below which a neighbourhood is flat:
# float noise of a blurred constant map is far below it, any visible ridge far above.
FLAT_ENERGY = 1e-12


def ridge_normals(
    smooth: np.ndarray, rho: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit normals across the ridges of a smooth map, from its structure tensor.

    With ``g = ∇S`` (Sobel, central differences) the structure tensor is
    ``J = G_ρ * (g gᵀ)``, i.e. ``J_xx = G_ρ * g_x²``, ``J_xy = G_ρ * g_x g_y``,
    ``J_yy = G_ρ * g_y²``. On both flanks of a ridge ``g`` points along ± the ridge normal, and
    ``g gᵀ`` is the same for both signs, so the eigenvector of ``J`` with the larger eigenvalue
    is the normal even on the crest, where ``g`` itself vanishes. Its angle is
    ``θ = ½·atan2(2 J_xy, J_xx − J_yy)``.

    ``smooth`` is ``(H, W)`` float32; ``rho`` the integration scale in px. Returns
    ``(n_x, n_y, energy)``, each ``(H, W)`` float32: the normal ``(cos θ, sin θ)`` (x right,
    y down) and the tensor's trace ``J_xx + J_yy``.
    """
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), rho)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), rho)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), rho)
    theta = 0.5 * np.arctan2(2.0 * jxy, jxx - jyy)
    return np.cos(theta), np.sin(theta), jxx + jyy


def ridge_maxima(prob: np.ndarray, sigma: float = 1.0, rho: float = 2.0) -> np.ndarray:
    """Pixels on the crest of a ridge: ``(H, W)`` bool.

    ``S = G_σ * P`` is compared with itself one pixel away on both sides along the ridge
    normal ``n`` (:func:`ridge_normals`), read with bilinear interpolation: a pixel ``p`` is
    kept when ``S(p) ≥ S(p + n)`` and ``S(p) ≥ S(p − n)``, and the gradient energy around it
    is not zero (pixels in a flat region wider than the windows lie on no ridge). Ties keep
    both pixels (a crest between two pixel centres, or a saturated plateau); thinning then
    reduces them to one.
    """
    p = np.ascontiguousarray(prob, dtype=np.float32)
    smooth = cv2.GaussianBlur(p, (0, 0), sigma) if sigma > 0 else p
    nx, ny, energy = ridge_normals(smooth, rho)
    ahead, behind = sample_either_side(smooth, nx.astype(np.float32), ny.astype(np.float32))
    return (smooth >= ahead) & (smooth >= behind) & (energy > FLAT_ENERGY)


def hysteresis(candidates: np.ndarray, value: np.ndarray, low: float, high: float) -> np.ndarray:
    """Canny's double threshold on ``value`` at the ``candidates`` pixels: ``(H, W)`` bool.

    Weak pixels (``value ≥ low``) are kept when their 8-connected component of weak pixels
    holds at least one strong pixel (``value ≥ high``): one connected-components labelling and
    a table lookup, i.e. morphological reconstruction of the strong pixels inside the weak
    ones.
    """
    weak = candidates & (value >= low)
    strong = weak & (value >= high)
    if not strong.any():
        return np.zeros(weak.shape, bool)
    count, labels = cv2.connectedComponents(weak.view(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[labels[strong]] = True
    keep[0] = False
    kept: npt.NDArray[np.bool_] = keep[labels]
    return kept


def thin_probability(
    prob: np.ndarray, low: float, high: float, *, sigma: float = 1.0, rho: float = 2.0
) -> np.ndarray:
    """A soft line map → one-pixel lines, ``(H, W)`` uint8, 255 on lines, 0 elsewhere.

    1. **Non-maximum suppression across the ridge** (:func:`ridge_maxima`): ``S = G_σ * P``;
       the normal ``n`` is the dominant eigenvector of the structure tensor
       ``G_ρ * (∇S ∇Sᵀ)``; ``p`` survives when ``S(p) ≥ S(p ± n)``.
    2. **Hysteresis** (:func:`hysteresis`) on the unsmoothed probability ``P`` at the
       survivors: components (8-connected) of ``P ≥ low`` that reach ``P ≥ high``.
    3. **Thinning** to 8-connected one-pixel lines (Guo–Hall,
       :func:`talos.axis.geometry.skeleton.thin`): NMS leaves two pixels where the crest falls
       between pixel centres, and blocks on plateaus.

    ``prob`` is ``(H, W)`` float in [0, 1]; ``low ≤ high`` are probabilities; ``sigma`` (px)
    smooths the map before NMS and ``rho`` (px) is the structure tensor's integration scale.
    A map with no ridge reaching ``high`` (a flat one, say) gives an empty map.
    """
    p = np.asarray(prob, dtype=np.float32)
    if p.ndim != 2:
        raise ValueError(f"prob must be (H, W), got shape {p.shape}")
    if high < low:
        raise ValueError(f"high ({high}) must be >= low ({low})")
    if p.size == 0 or not (p >= high).any():
        return np.zeros(p.shape, np.uint8)
    lines = hysteresis(ridge_maxima(p, sigma, rho), p, low, high)
    return np.where(thin(lines), np.uint8(255), np.uint8(0))
