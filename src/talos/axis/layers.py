"""Which layer a stroke belongs to, and whether it is an outline or a detail.

Layers are named back to front (the shot spec's ``layers``). Without a foreground mask every
stroke goes on the front layer. With a mask (``(H, W)`` bool: moving or near pixels, e.g. from
optical flow or depth), a stroke whose sampled points lie mostly inside the mask goes on the
front layer and the others on the back one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from talos.axis.geometry.bezier import sample
from talos.axis.strokes import DEFAULT_LAYER, Circle, Stroke, Triangle

BACKGROUND_LAYER = "background"


def motion_mask(
    previous: np.ndarray, current: np.ndarray, threshold: float = 12.0, grow: int = 7
) -> np.ndarray:
    """Pixels that moved between two frames, after undoing the camera's global shift.

    ``previous``/``current`` are ``(H, W)`` uint8 gray. The global translation (a pan) is
    estimated by phase correlation and rounded to whole pixels, ``previous`` is shifted onto
    ``current``, and pixels whose absolute difference exceeds ``threshold`` (grey levels),
    dilated by ``grow`` px, are foreground. Returns ``(H, W)`` bool. A stand-in until optical
    flow or depth is available.
    """
    a = np.asarray(previous, np.float32)
    b = np.asarray(current, np.float32)
    if a.shape != b.shape or a.ndim != 2 or min(a.shape) < 8:
        return np.zeros(b.shape[:2], bool)
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
    # Whole pixels only: a sub-pixel resampling would light up every sharp static edge.
    shift = np.array([[1, 0, round(dx)], [0, 1, round(dy)]], np.float32)
    aligned = cv2.warpAffine(a, shift, (a.shape[1], a.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    moved: np.ndarray = (cv2.absdiff(aligned, b) > threshold).astype(np.uint8)
    if grow > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        moved = cv2.dilate(moved, kernel)
    return moved > 0


def front_and_back(layer_names: Sequence[str] = ()) -> tuple[str, str]:
    """``(front, back)`` layer names: ``foreground``/``background`` when named (or when no
    names are given), otherwise the last and first of ``layer_names`` (back to front)."""
    names = [str(n) for n in layer_names if str(n)]
    if not names:
        return DEFAULT_LAYER, BACKGROUND_LAYER
    front = DEFAULT_LAYER if DEFAULT_LAYER in names else names[-1]
    back = BACKGROUND_LAYER if BACKGROUND_LAYER in names else names[0]
    return front, back


def _inside(mask: np.ndarray, points: np.ndarray) -> float:
    """Share of ``(n, 2)`` points ``(x, y)`` that fall on set pixels of ``mask``."""
    h, w = mask.shape
    xy = np.rint(points).astype(int)
    x = np.clip(xy[:, 0], 0, w - 1)
    y = np.clip(xy[:, 1], 0, h - 1)
    return float(mask[y, x].mean()) if len(xy) else 0.0


def assign_layers(
    strokes: Sequence[Stroke],
    foreground_mask: np.ndarray | None = None,
    layer_names: Sequence[str] = (),
    circles: Sequence[Circle] = (),
    triangles: Sequence[Triangle] = (),
) -> tuple[tuple[Stroke, ...], tuple[Circle, ...], tuple[Triangle, ...]]:
    """Put every stroke and primitive on a layer (see module docstring); returns new objects.

    ``foreground_mask`` is ``(H, W)`` bool at the processing resolution, or ``None``.
    """
    front, back = front_and_back(layer_names)
    mask = None if foreground_mask is None else np.asarray(foreground_mask) > 0
    if mask is not None and (mask.ndim != 2 or mask.size == 0):
        mask = None

    def pick(points: np.ndarray) -> str:
        if mask is None:
            return front
        return front if _inside(mask, points) >= 0.5 else back

    out_strokes = tuple(s.evolve(layer=pick(sample(s.control_points, 4))) for s in strokes)
    out_circles = tuple(replace(c, layer=pick(np.array([c.center]))) for c in circles)
    out_triangles = tuple(replace(t, layer=pick(np.array(t.vertices))) for t in triangles)
    return out_strokes, out_circles, out_triangles


def style_classes(
    lengths: Sequence[float] | np.ndarray,
    mean_widths: Sequence[float] | np.ndarray,
    detail_length: float,
) -> list[str]:
    """``outline`` for long, full-width strokes; ``detail`` for short or thin ones.

    A stroke is a detail when its length (px) is under ``detail_length`` or its mean drawn
    width is under 60% of the median over all the given strokes (the frame).
    """
    if not len(lengths):
        return []
    length = np.asarray(lengths, np.float64)
    width = np.asarray(mean_widths, np.float64)
    detail = (length < detail_length) | (width < 0.6 * float(np.median(width)))
    return ["detail" if d else "outline" for d in detail]


def assign_style_classes(strokes: Sequence[Stroke], detail_length: float) -> tuple[Stroke, ...]:
    """Set every stroke's ``style_class`` with :func:`style_classes` (control-polygon length,
    which bounds the arc length from above, and mean drawn width ``width · pressure``)."""
    classes = style_classes(
        [float(np.hypot(*np.diff(s.control_points, axis=0).T).sum()) for s in strokes],
        [s.width * float(np.mean(s.pressure)) for s in strokes],
        detail_length,
    )
    return tuple(s.evolve(style_class=c) for s, c in zip(strokes, classes, strict=True))
