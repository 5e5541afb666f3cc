"""HED (Holistically-Nested Edge Detection, BSDS500) as an :class:`EdgeDetector`: ``hed``.

The network (:mod:`talos.axis.models.hed`, installed by ``axis models install hed``) gives a
soft boundary probability several pixels wide; :func:`talos.axis.geometry.ridges.thin_probability`
turns it into one-pixel lines. It runs on ONNX Runtime's CUDA provider when there is one, on
the CPU otherwise (:class:`~talos.axis.strategies.onnx_model.OnnxModel`). On CPU it costs
seconds per 720p frame: a quality mode, not the default.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from talos.axis.geometry.ridges import thin_probability
from talos.axis.models import model_path
from talos.axis.strategies import EDGE_DETECTORS, EdgeDetector
from talos.axis.strategies.onnx_model import ModelLoadError, OnnxModel, output_plane
from talos.config import EdgeSettings, ModelsSettings

CAFFE_MEAN_BGR = np.array([104.00699, 116.66877, 122.67892], np.float32)
KIND = "hed edge model"


def hed_model_path(edges: EdgeSettings, models: ModelsSettings) -> Path:
    """``edges.model_path`` when set, else ``<models.dir>/hed_bsds500.onnx``."""
    if edges.model_path is not None:
        return Path(edges.model_path).expanduser()
    return model_path(models, "hed")


@EDGE_DETECTORS.register("hed")
class HedEdgeDetector(EdgeDetector):
    """HED boundary probability, then ridge NMS, hysteresis and thinning to one pixel.

    ``probability`` feeds the frame as the network was trained: BGR on the 0..255 scale minus
    the Caffe mean ``(104.00699, 116.66877, 122.67892)`` (OpenCV frames are BGR already), as
    ``(1, 3, h, w)`` float32. With ``edges.hed_max_width`` > 0 a wider frame is first shrunk
    (area averaging) to that width and the probability is resized back (bilinear). ``detect``
    thins that map with ``edges.hed_low`` / ``edges.hed_high``; a frame of one colour gives an
    empty map without running the network.

    Raises :class:`ModelLoadError` (one line) when the model file is missing (it says to run
    ``axis models install hed``), is not ONNX, or does not take one ``(N, 3, H, W)`` input.
    """

    # Also the models section: where `axis models install hed` put the network.
    extra_sections: ClassVar[tuple[str, ...]] = ("models",)

    def __init__(self, edges: EdgeSettings, models: ModelsSettings) -> None:
        path = hed_model_path(edges, models)
        if not path.is_file():
            raise ModelLoadError(f"{KIND}: no model at {path}; run `axis models install hed`")
        self.model = OnnxModel(path, inputs=1, kind=KIND)
        if self.model.channels not in (3, None):
            raise ModelLoadError(
                f"{KIND}: model {path} takes {self.model.channels} channels, expected 3 (BGR)"
            )
        self.low = edges.hed_low
        self.high = edges.hed_high
        self.max_width = edges.hed_max_width

    def probability(self, image: np.ndarray) -> np.ndarray:
        """``(H, W, 3)`` uint8 BGR (or ``(H, W)`` gray) → ``(H, W)`` float32 edge probability."""
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        height, width = image.shape[:2]
        if 0 < self.max_width < width:
            size = (self.max_width, max(1, round(height * self.max_width / width)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        pixels = image.astype(np.float32) - CAFFE_MEAN_BGR
        prob = output_plane(self.model.run(self.model.blob(pixels)), KIND)
        if prob.shape != (height, width):
            prob = cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR)
        clipped: np.ndarray = np.clip(prob, 0.0, 1.0)
        return clipped

    def detect(self, image: np.ndarray) -> np.ndarray:
        if _flat(image):  # no boundary in one colour: skip the network (fades, leaders)
            return np.zeros(image.shape[:2], np.uint8)
        return thin_probability(self.probability(image), self.low, self.high)


def _flat(image: np.ndarray) -> bool:
    """Whether every pixel of the frame has the same colour (one min/max pass per channel)."""
    if image.size == 0:
        return True
    for plane in cv2.split(image) if image.ndim == 3 else [image]:
        low, high, _, _ = cv2.minMaxLoc(plane)
        if low != high:
            return False
    return True
