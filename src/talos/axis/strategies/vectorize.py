"""Line map → polylines by contour following (the simple baseline vectorizer)."""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from talos.axis.strategies import VECTORIZERS, Vectorizer, VectorResult
from talos.axis.strokes import Stroke
from talos.config import OutputSettings, VectorizeSettings


@VECTORIZERS.register("contours")
class ContourVectorizer(Vectorizer):
    """Boundaries of line-map blobs, simplified with Douglas–Peucker to ``tolerance`` px."""

    # Also the output section: contours carry no width, they get the nominal stroke width.
    extra_sections: ClassVar[tuple[str, ...]] = ("output",)

    def __init__(self, vectorize: VectorizeSettings, output: OutputSettings) -> None:
        self.tolerance = vectorize.tolerance
        self.min_length = vectorize.min_length
        self.width = output.stroke_width

    def vectorize(self, line_map: np.ndarray) -> VectorResult:
        contours, _ = cv2.findContours(line_map, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        strokes: list[Stroke] = []
        for contour in contours:
            if cv2.arcLength(contour, closed=True) < self.min_length:
                continue
            points = cv2.approxPolyDP(contour, self.tolerance, closed=True).reshape(-1, 2)
            if len(points) < 2:
                continue
            strokes.append(
                Stroke.from_polyline(points, len(strokes), closed=len(points) > 2, width=self.width)
            )
        return VectorResult(strokes=tuple(strokes))
