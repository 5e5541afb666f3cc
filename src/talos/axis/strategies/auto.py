"""``edges.strategy: auto``: decide per shot whether the input is already ink line art.

Ink line art (drawings, cel animation with inked outlines) is dark, thin strokes on lighter
fills; the ``xdog`` strategy keeps those strokes as they are drawn. Rendered and filmed
footage has boundaries between regions and texture instead, for which ``boundaries`` draws
what an artist would (see :mod:`talos.axis.strategies.edges`). Run on the wrong kind, each
does badly: ``boundaries`` outlines both flanks of every ink line, ``xdog`` keeps texture and
misses silhouettes drawn by shading alone.

The test asks of the first frames of a shot: *are its edges the flanks of ink lines?* On the
gray image ``I`` reduced to at most :data:`WORKING_WIDTH` px and smoothed (σ = 1 px):

- the strong edges ``E = {p : |∇I(p)| > EDGE_LEVEL}`` (gray levels per px);
- the ink ``K``: the morphological black-hat ``close(I) − I`` above :data:`INK_LEVEL` (thin
  dark structures, narrower than a disc of :data:`STRUCTURE_PX` px), grown by 2 px so that
  it covers its own flanks;
- ``ink share = |E ∩ K| / |E|``.

Drawn lines score about 1.0 and cel scenes with inked outlines 0.91–0.94 (their only edges
without ink are shadow shapes); footage scores 0.05–0.81 (generated shaded scenes 0.67–0.74,
Big Buck Bunny 0.80, live action 0.1, photographs 0.5–0.6). A shot whose ink share reaches
:data:`LINE_ART_SHARE` is line art. The choice and its evidence go into ``lines.json``
(``line_extraction``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from talos.axis.strategies import EDGE_DETECTORS, EdgeDetector
from talos.config import EdgeSettings

WORKING_WIDTH = 640
STRUCTURE_PX = 9
EDGE_LEVEL = 6.0  # gray levels per px
INK_LEVEL = 24  # gray levels darker than the closing
LINE_ART_SHARE = 0.85
FRAMES = 3
LINE_ART_STRATEGY = "xdog"
FOOTAGE_STRATEGY = "boundaries"


@dataclass(frozen=True)
class EdgeChoice:
    """The strategy ``auto`` picked for a shot, and why."""

    strategy: str
    ink_share: float
    frames: int

    def to_dict(self) -> dict[str, object]:
        return {
            "requested": "auto",
            "strategy": self.strategy,
            "kind": "line art" if self.strategy == LINE_ART_STRATEGY else "footage",
            "ink_edge_share": round(self.ink_share, 3),
            "frames_examined": self.frames,
        }


def ink_edge_counts(image: np.ndarray) -> tuple[int, int]:
    """``(|E ∩ K|, |E|)`` of one ``(H, W, 3)`` BGR or ``(H, W)`` gray uint8 frame (see the
    module docstring)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    height, width = gray.shape
    if width > WORKING_WIDTH:
        size = (WORKING_WIDTH, max(1, round(height * WORKING_WIDTH / width)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.0).astype(np.float32)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    edges = cv2.magnitude(gx, gy) > EDGE_LEVEL
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (STRUCTURE_PX, STRUCTURE_PX))
    ink = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, disc) > INK_LEVEL
    ink = cv2.dilate(ink.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return int(np.count_nonzero(edges & ink)), int(np.count_nonzero(edges))


def choose_edge_strategy(images: Iterable[np.ndarray]) -> EdgeChoice:
    """Pick ``xdog`` for ink line art, ``boundaries`` for footage, from a shot's first frames
    (``(H, W, 3)`` uint8 BGR). No frames, or frames without a single strong edge (one flat
    colour), count as footage: ``boundaries`` draws nothing on them either."""
    on_ink = total = count = 0
    for image in images:
        inked, edges = ink_edge_counts(image)
        on_ink, total, count = on_ink + inked, total + edges, count + 1
    share = on_ink / total if total else 0.0
    strategy = LINE_ART_STRATEGY if share >= LINE_ART_SHARE else FOOTAGE_STRATEGY
    return EdgeChoice(strategy, share, count)


@EDGE_DETECTORS.register("auto")
class AutoEdgeDetector(EdgeDetector):
    """``auto`` used frame by frame (outside :func:`talos.axis.api.trace_video`, which
    decides once per shot from its first frames): the first frame seen decides, and the
    choice holds for every later frame."""

    def __init__(self, edges: EdgeSettings) -> None:
        self.edges = edges
        self.choice: EdgeChoice | None = None
        self.detector: EdgeDetector | None = None

    def _chosen(self, image: np.ndarray) -> EdgeDetector:
        if self.detector is None:
            self.choice = choose_edge_strategy([image])
            # xdog and boundaries read the edges section alone.
            self.detector = EDGE_DETECTORS.get(self.choice.strategy)(self.edges)
        return self.detector

    def detect(self, image: np.ndarray) -> np.ndarray:
        return self._chosen(image).detect(image)

    def detect_with_weak(
        self, image: np.ndarray, ratio: float
    ) -> tuple[np.ndarray, np.ndarray | None]:
        return self._chosen(image).detect_with_weak(image, ratio)
