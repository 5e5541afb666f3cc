"""``edges.strategy: auto``: decide per shot whether the input is already ink line art.

Ink line art (drawings, cel animation with inked outlines) is dark, thin strokes on lighter
fills; the ``xdog`` strategy keeps those strokes as they are drawn. Rendered and filmed
footage has boundaries between regions and texture instead, for which ``boundaries`` draws
what an artist would (see :mod:`talos.axis.strategies.edges`).

The test is the *ink asymmetry* of the first frames of a shot. On the gray image ``I``
reduced to at most :data:`WORKING_WIDTH` px, the morphological black-hat
``B = close(I) − I`` responds to thin dark structures and the top-hat ``T = I − open(I)``
to thin bright ones (both with a disc of :data:`STRUCTURE_PX` px). With a noise floor
``f`` (gray levels),

    ``asymmetry = Σ max(B − f, 0) / Σ max(T − f, 0)``.

Ink on paper gives far more dark thin detail than bright (the generated line clips score
about 70); texture, foliage and photographs give both alike (0.8–1.3 on grass, gravel and
scikit-image's photographs). A shot whose asymmetry reaches :data:`LINE_ART_ASYMMETRY` is
line art. The choice and its evidence are recorded in ``lines.json``
(``line_extraction``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from talos.axis.strategies import EDGE_DETECTORS, EdgeDetector
from talos.config import Settings

WORKING_WIDTH = 640
STRUCTURE_PX = 9
NOISE_FLOOR = 16.0
LINE_ART_ASYMMETRY = 4.0
FRAMES = 3
LINE_ART_STRATEGY = "xdog"
FOOTAGE_STRATEGY = "boundaries"


@dataclass(frozen=True)
class EdgeChoice:
    """The strategy ``auto`` picked for a shot, and why."""

    strategy: str
    asymmetry: float
    frames: int

    def to_dict(self) -> dict[str, object]:
        return {
            "requested": "auto",
            "strategy": self.strategy,
            "kind": "line art" if self.strategy == LINE_ART_STRATEGY else "footage",
            "ink_asymmetry": round(self.asymmetry, 3),
            "frames_examined": self.frames,
        }


def ink_sums(image: np.ndarray) -> tuple[float, float]:
    """``(Σ max(B − f, 0), Σ max(T − f, 0))`` of one ``(H, W, 3)`` BGR or ``(H, W)`` gray
    uint8 frame, per pixel of the reduced image (see the module docstring)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    height, width = gray.shape
    if width > WORKING_WIDTH:
        size = (WORKING_WIDTH, max(1, round(height * WORKING_WIDTH / width)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (STRUCTURE_PX, STRUCTURE_PX))
    dark = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, disc)
    bright = cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, disc)
    floor = np.float32(NOISE_FLOOR)
    dark_sum = float(np.maximum(dark.astype(np.float32) - floor, 0).sum()) / gray.size
    bright_sum = float(np.maximum(bright.astype(np.float32) - floor, 0).sum()) / gray.size
    return dark_sum, bright_sum


def choose_edge_strategy(images: Iterable[np.ndarray]) -> EdgeChoice:
    """Pick ``xdog`` for ink line art, ``boundaries`` for footage, from a shot's first frames
    (``(H, W, 3)`` uint8 BGR). No frames, or frames with no thin detail at all (one flat
    colour), count as footage: ``boundaries`` draws nothing on them either."""
    dark = bright = 0.0
    count = 0
    for image in images:
        d, b = ink_sums(image)
        dark, bright, count = dark + d, bright + b, count + 1
    # The small constant keeps a clean drawing on flat paper (no bright detail) finite.
    asymmetry = dark / (bright + 1e-3) if dark > 0 else 0.0
    strategy = LINE_ART_STRATEGY if asymmetry >= LINE_ART_ASYMMETRY else FOOTAGE_STRATEGY
    return EdgeChoice(strategy, asymmetry, count)


@EDGE_DETECTORS.register("auto")
class AutoEdgeDetector(EdgeDetector):
    """``auto`` used frame by frame (outside :func:`talos.axis.trace.trace_video`, which
    decides once per shot from its first frames): the first frame seen decides, and the
    choice holds for every later frame."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.choice: EdgeChoice | None = None
        self.detector: EdgeDetector | None = None

    def detect(self, image: np.ndarray) -> np.ndarray:
        if self.detector is None:
            self.choice = choose_edge_strategy([image])
            self.detector = EDGE_DETECTORS.create(self.choice.strategy, self.settings)
        return self.detector.detect(image)
