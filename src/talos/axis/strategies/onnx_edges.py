"""A learned line-art / edge model (ONNX) as an :class:`EdgeDetector`."""

from __future__ import annotations

import cv2
import numpy as np

from talos.axis.strategies import EDGE_DETECTORS, EdgeDetector
from talos.axis.strategies.onnx_model import OnnxModel, output_plane
from talos.config import EdgeSettings


@EDGE_DETECTORS.register("onnx")
class OnnxEdgeDetector(EdgeDetector):
    """Line probability from ``edges.model_path``, thresholded at 0.5.

    Interface: one input ``(1, C, H, W)`` float32 in [0, 1], C = 1 (gray) or 3 (RGB); first
    output one plane ``(1, 1, H, W)`` of line probability in [0, 1]. Fixed-size models get
    resized frames; the map is resized back to the frame.
    """

    def __init__(self, edges: EdgeSettings) -> None:
        self.model = OnnxModel(edges.model_path, inputs=1, kind="edge model")

    def detect(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        if self.model.channels == 1:
            pixels = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        else:
            pixels = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image
            if pixels.ndim == 2:
                pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        blob = self.model.blob(pixels.astype(np.float32) * (1.0 / 255.0))
        prob = output_plane(self.model.run(blob), "edge model")
        if prob.shape != (height, width):
            prob = cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR)
        return np.where(prob >= 0.5, np.uint8(255), np.uint8(0))
